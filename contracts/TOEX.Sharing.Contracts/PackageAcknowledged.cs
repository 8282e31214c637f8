namespace TOEX.Sharing.Contracts;

/// <summary>A recipient acknowledged a package or a recall notice (once: the first acknowledgement is the one on record).</summary>
public sealed record PackageAcknowledged
{
    public required Guid PackageId { get; init; }
    public required string Recipient { get; init; }
    /// <summary>package or recall.</summary>
    public required string Kind { get; init; }
    /// <summary>Who acknowledged: the partner's caller on the feed, or the partner's endpoint for a push answer.</summary>
    public required string AcknowledgedBy { get; init; }
    /// <summary>feed or push.</summary>
    public required string Channel { get; init; }
    public required DateTimeOffset At { get; init; }
}
