namespace TOEX.Sharing.Contracts;

/// <summary>One push attempt to a partner's webhook endpoint failed; another follows at <see cref="NextAttemptAt"/> unless it is null.</summary>
public sealed record WebhookAttemptFailed
{
    /// <summary>The <c>webhook-id</c>: the same on every attempt, the partner's idempotency key.</summary>
    public required Guid WebhookId { get; init; }
    public required Guid PackageId { get; init; }
    public required string Recipient { get; init; }
    /// <summary>package or recall.</summary>
    public required string Kind { get; init; }
    public required int Attempt { get; init; }
    /// <summary>The endpoint's HTTP status, when it answered.</summary>
    public int? StatusCode { get; init; }
    public required string Error { get; init; }
    public DateTimeOffset? NextAttemptAt { get; init; }
    public required DateTimeOffset At { get; init; }
}
