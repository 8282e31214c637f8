namespace TOEX.Sharing.Contracts;

/// <summary>
/// A push was given up: its retry horizon passed, or the endpoint is disabled. It stays on the partner's
/// feed; an operator can retry it.
/// </summary>
public sealed record WebhookDeadLettered
{
    public required Guid WebhookId { get; init; }
    public required Guid PackageId { get; init; }
    public required string Recipient { get; init; }
    /// <summary>package or recall.</summary>
    public required string Kind { get; init; }
    public required int Attempts { get; init; }
    public required string Reason { get; init; }
    public required DateTimeOffset At { get; init; }
}
