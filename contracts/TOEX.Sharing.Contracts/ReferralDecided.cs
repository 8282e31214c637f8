namespace TOEX.Sharing.Contracts;

/// <summary>
/// An IG officer approved or rejected a referred disclosure. Decision: approved or rejected. The gateway acts only on
/// <see cref="DecisionJws"/>, the decision signed by the audit service, never on the plain fields.
/// </summary>
public sealed record ReferralDecided
{
    public required Guid ReferralId { get; init; }
    public required Guid PackageId { get; init; }
    public required string Originator { get; init; }
    public required string Recipient { get; init; }
    public string? Agreement { get; init; }
    public required string Decision { get; init; }
    public required string DecidedBy { get; init; }
    public required string Justification { get; init; }
    public required DateTimeOffset DecidedAt { get; init; }

    /// <summary>The <see cref="SignedReferralDecision"/> as a compact JWS signed by the audit service.</summary>
    public string? DecisionJws { get; init; }
}
