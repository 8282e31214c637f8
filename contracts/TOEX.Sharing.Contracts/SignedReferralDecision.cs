namespace TOEX.Sharing.Contracts;

/// <summary>
/// An IG officer's decision on a referral as the audit service signs it (ES256, its tree-head keys): what the gateway
/// acts on. <see cref="DecidedByPerson"/> is the officer as a person (issuer and subject; Entra: tenant and object id),
/// what separation of duties compares with the package's submitter.
/// </summary>
public sealed record SignedReferralDecision
{
    public required Guid ReferralId { get; init; }
    public required Guid PackageId { get; init; }
    public required string Originator { get; init; }
    public required string Recipient { get; init; }
    public string? Agreement { get; init; }

    /// <summary>approved or rejected.</summary>
    public required string Decision { get; init; }

    public required string DecidedBy { get; init; }
    public required string DecidedByPerson { get; init; }
    public required string Justification { get; init; }
    public required DateTimeOffset DecidedAt { get; init; }
}
