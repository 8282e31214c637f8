namespace TOEX.Sharing.Contracts;

/// <summary>
/// PolicyDecision decided a package, one message for all its recipients. <see cref="DecisionJws"/> is a
/// compact ES256 JWS over a <see cref="SignedDecision"/>: nothing is released unless it verifies.
/// </summary>
public sealed record SharingDecided
{
    public required Guid PackageId { get; init; }
    public required string DecisionJws { get; init; }
}
