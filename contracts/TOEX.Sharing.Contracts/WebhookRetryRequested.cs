namespace TOEX.Sharing.Contracts;

/// <summary>An operator sent a dead-lettered push back to the partner: a fresh retry horizon, the same webhook-id.</summary>
public sealed record WebhookRetryRequested
{
    public required Guid WebhookId { get; init; }
    public required Guid PackageId { get; init; }
    public required string Recipient { get; init; }
    /// <summary>package or recall.</summary>
    public required string Kind { get; init; }
    public required string RequestedBy { get; init; }
    public string? Reason { get; init; }
    /// <summary>Whether the retry also re-enabled an endpoint disabled by a 410.</summary>
    public required bool EndpointReenabled { get; init; }
    public required DateTimeOffset At { get; init; }
}
