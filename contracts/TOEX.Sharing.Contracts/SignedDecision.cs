namespace TOEX.Sharing.Contracts;

/// <summary>
/// The payload PolicyDecision signs (ES256 JWS): binds the decisions to one package, its content
/// hash, the instant of evaluation and the policy-set hash.
/// </summary>
public sealed record SignedDecision
{
    public required Guid PackageId { get; init; }
    public required string ContentHash { get; init; }
    public required DateTimeOffset DecidedAt { get; init; }
    public required string PolicyVersion { get; init; }
    public required IReadOnlyList<RecipientDecision> Decisions { get; init; }
}
