namespace TOEX.Sharing.Contracts;

/// <summary>A partner's webhook endpoint answered 410 Gone: it gets no more pushes until an operator retries.</summary>
public sealed record WebhookEndpointDisabled
{
    public required string Recipient { get; init; }
    /// <summary>The push that was answered 410.</summary>
    public required Guid WebhookId { get; init; }
    public required Guid PackageId { get; init; }
    public required string Reason { get; init; }
    public required DateTimeOffset At { get; init; }
}
