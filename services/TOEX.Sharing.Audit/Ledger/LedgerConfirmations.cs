using MassTransit;
using TOEX.Sharing.Contracts;

namespace TOEX.Sharing.Audit.Ledger;

/// <summary>
/// The gateway's event an audit consumer is recording, waiting to be confirmed (<see cref="AuditRecorded"/>) by the group
/// commit that records it. Set by the consume filter around the consumer (<see cref="Current"/>), taken by the
/// <see cref="LedgerWriter"/> when the consumer appends.
/// </summary>
public sealed class PendingConfirmation(Guid messageId)
{
    private static readonly AsyncLocal<PendingConfirmation?> Ambient = new();
    private int _taken;

    public Guid MessageId { get; } = messageId;

    /// <summary>Whether a confirmation naming the event has been published.</summary>
    public bool Sent { get; internal set; }

    /// <summary>The confirmation owed by the message being consumed on this flow, if any.</summary>
    public static PendingConfirmation? Current
    {
        get => Ambient.Value;
        set => Ambient.Value = value;
    }

    /// <summary>The confirmation owed on this flow, once: a second append of the same consumer does not take it again.</summary>
    internal static PendingConfirmation? Take() =>
        Ambient.Value is { } pending && Interlocked.Exchange(ref pending._taken, 1) == 0 ? pending : null;
}

/// <summary>Publishes the ledger's confirmations to the gateway: one message naming every event of one group commit.</summary>
public sealed class LedgerConfirmations(IBus bus, TimeProvider time)
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    public async Task SendAsync(IReadOnlyList<Guid> eventIds)
    {
        if (eventIds.Count == 0)
        {
            return;
        }
        // Not a caller's token: the confirmation of a group is owed to every caller in it.
        using var timeout = new CancellationTokenSource(Timeout);
        await bus.Publish(new AuditRecorded { EventIds = eventIds, RecordedAt = time.GetUtcNow() }, timeout.Token);
    }
}
