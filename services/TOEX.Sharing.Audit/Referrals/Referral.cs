namespace TOEX.Sharing.Audit.Referrals;

/// <summary>
/// A disclosure PolicyDecision referred to a person (outcome <c>refer</c>, signature verified), awaiting an IG
/// officer's approval or rejection. Its id is the one the gateway holds the recipient's copy under.
/// </summary>
public sealed class Referral
{
    public Guid Id { get; set; }
    public Guid PackageId { get; set; }
    public required string Recipient { get; set; }
    public string? Agreement { get; set; }
    public required string ReasonsJson { get; set; }
    public required string ObligationsJson { get; set; }
    public long ReferredAtUnixMs { get; set; }
    /// <summary>approved or rejected, once decided.</summary>
    public string? Decision { get; set; }
    public string? DecidedBy { get; set; }
    public string? Justification { get; set; }
    public long? DecidedAtUnixMs { get; set; }
}
