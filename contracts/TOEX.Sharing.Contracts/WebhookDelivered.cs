namespace TOEX.Sharing.Contracts;

/// <summary>A partner's webhook endpoint accepted a push (a 2xx answer).</summary>
public sealed record WebhookDelivered
{
    public required Guid WebhookId { get; init; }
    public required Guid PackageId { get; init; }
    public required string Recipient { get; init; }
    /// <summary>package or recall.</summary>
    public required string Kind { get; init; }
    public required int Attempt { get; init; }
    public required int StatusCode { get; init; }
    public required DateTimeOffset At { get; init; }
}
