namespace TOEX.Sharing.Contracts;

/// <summary>
/// The audit worker has the event with <see cref="MessageId"/> in its ledger (appended now or before). Sent for
/// the gateway's events, so the gateway knows how far behind the ledger is and stops releasing when it lags.
/// </summary>
public sealed record AuditRecorded
{
    public required Guid MessageId { get; init; }
    public required DateTimeOffset RecordedAt { get; init; }
}
