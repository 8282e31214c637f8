namespace TOEX.Sharing.Contracts;

/// <summary>A recipient bound by the acknowledge obligation has not acknowledged its package by the deadline.</summary>
public sealed record AcknowledgementOverdue
{
    public required Guid PackageId { get; init; }
    public required string Originator { get; init; }
    public required string Recipient { get; init; }
    public required DateTimeOffset ReleasedAt { get; init; }
    public required DateTimeOffset DueAt { get; init; }
    public required DateTimeOffset At { get; init; }
}
