namespace TOEX.Sharing.Contracts;

/// <summary>An IG officer approved or rejected a referred disclosure. Decision: approved or rejected.</summary>
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
}
