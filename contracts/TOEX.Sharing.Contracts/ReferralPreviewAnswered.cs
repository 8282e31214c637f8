namespace TOEX.Sharing.Contracts;

/// <summary>
/// The gateway's answer to <see cref="ReferralPreviewRequested"/>: the recipient's copy exactly as an approval would
/// release it, signed by the broker and sealed (JWE) for the audit service's preview key alone, so no personal data
/// crosses the bus in clear; or, when there is no such pending referral, why not (<see cref="Sealed"/> null).
/// </summary>
public sealed record ReferralPreviewAnswered
{
    public required Guid ReferralId { get; init; }
    public string? Sealed { get; init; }
    public string? Unavailable { get; init; }
}
