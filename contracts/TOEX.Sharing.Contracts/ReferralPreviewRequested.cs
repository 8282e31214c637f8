namespace TOEX.Sharing.Contracts;

/// <summary>
/// The audit service asks the gateway (request/response, to the queue <c>gateway-referral-preview</c>) for the copy an
/// approval of a pending referral would release, so an IG officer never approves blind. Names no personal data.
/// </summary>
public sealed record ReferralPreviewRequested
{
    public required Guid ReferralId { get; init; }
    public required Guid PackageId { get; init; }
    public required string Originator { get; init; }
    public required string Recipient { get; init; }

    /// <summary>The officer who asked (recorded in the gateway's log; the audit service records the consultation).</summary>
    public required string RequestedBy { get; init; }
}
