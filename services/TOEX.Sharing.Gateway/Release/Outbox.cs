using MassTransit;
using Microsoft.EntityFrameworkCore;
using TOEX.Sharing.Contracts;
using TOEX.Sharing.Gateway.Data;
using TOEX.Sharing.ServiceDefaults;

namespace TOEX.Sharing.Gateway.Release;

public static class OutboxMessages
{
    /// <summary>An outbox row for <paramref name="message"/>, published with <paramref name="messageId"/> once its transaction commits.</summary>
    public static OutboxMessage For<T>(T message, Guid messageId, DateTimeOffset now) where T : class => new()
    {
        MessageId = messageId,
        MessageType = typeof(T).Name,
        Body = ToexJson.Serialize(message),
        CreatedAt = now,
        // The trace of the request or message that caused the event: the publish joins it (one trace per package).
        TraceParent = ToexTelemetry.CurrentTraceParent(),
    };
}

/// <summary>Wakes a background loop early (it polls anyway): coalesces many notifications into one wake-up.</summary>
public class WakeSignal : IDisposable
{
    private readonly SemaphoreSlim _signal = new(0, 1);

    public void Notify()
    {
        if (_signal.CurrentCount == 0)
        {
            try
            {
                _signal.Release();
            }
            catch (SemaphoreFullException)
            {
                // Already signalled.
            }
        }
    }

    public Task<bool> WaitAsync(TimeSpan timeout, CancellationToken cancellationToken) => _signal.WaitAsync(timeout, cancellationToken);

    /// <summary>Waits for a signal or for <paramref name="timeout"/> to pass on <paramref name="time"/> (a fake clock in tests).</summary>
    public async Task WaitAsync(TimeSpan timeout, TimeProvider time, CancellationToken cancellationToken)
    {
        using var either = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var signalled = _signal.WaitAsync(either.Token);
        var elapsed = Task.Delay(timeout, time, either.Token);
        await Task.WhenAny(signalled, elapsed);
        await either.CancelAsync();
        try
        {
            await Task.WhenAll(signalled, elapsed);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            // The one that did not finish was cancelled.
        }
    }

    public void Dispose()
    {
        _signal.Dispose();
        GC.SuppressFinalize(this);
    }
}

/// <summary>Wakes the outbox relay when a transaction has left messages to publish.</summary>
public sealed class OutboxSignal : WakeSignal;

/// <summary>Wakes the held releases when the audit worker confirms events (the ledger may have caught up).</summary>
public sealed class HeldReleasesSignal : WakeSignal;

/// <summary>
/// Publishes what committed transactions left in the outbox, oldest first, together as one <see cref="GatewayEventBatch"/>
/// (up to <see cref="BatchSize"/> events a message, a lone event as a batch of one), each event with its stored message id
/// (so an event published again after a crash, in whatever batch, is recognised downstream), and marks them sent in one
/// statement once the broker confirmed the batch.
/// </summary>
/// <remarks>
/// Every event goes in a batch, a lone one too: one path and one queue at the audit worker, and a lone event costs the same
/// two messages (it and its confirmation) either way. Only the audit worker consumes the gateway's outbox events, so no
/// other consumer is left waiting for a type that now travels inside a batch.
/// </remarks>
public sealed class OutboxRelay(IServiceScopeFactory scopes, GatewayWriter writer, IBus bus, OutboxSignal signal, TimeProvider time,
    ILogger<OutboxRelay> logger) : BackgroundService
{
    /// <summary>The most events one batch carries (and one round reads).</summary>
    public const int BatchSize = 100;

    private static readonly TimeSpan Poll = TimeSpan.FromSeconds(2);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                while (await PublishBatchAsync(stoppingToken))
                {
                }
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e)
            {
                logger.LogWarning(e, "Outbox relay could not publish; will retry");
            }
            try
            {
                await signal.WaitAsync(Poll, stoppingToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    /// <summary>
    /// Publishes up to one batch; true when there may be more. The rows are marked sent in one statement once the broker
    /// confirmed the batch: a crash between the two publishes them again (in a batch of the same id if it holds the same
    /// rows), which the ledger recognises by each event's id. A batch whose publish failed stays unsent and goes again.
    /// </summary>
    private async Task<bool> PublishBatchAsync(CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<GatewayDb>();
        var rows = await db.Outbox.AsNoTracking().Where(o => o.SentAt == null).OrderBy(o => o.Sequence).Take(BatchSize)
            .Select(o => new Row(o.Sequence, o.MessageId, o.MessageType, o.Body, o.CreatedAt, o.Attempts, o.TraceParent))
            .ToListAsync(cancellationToken);
        if (rows.Count == 0)
        {
            return false;
        }
        // One span per event, in its own trace (the request or message that caused it), for as long as the batch's publish;
        // none of them is the batch's parent (starting one makes it the current activity: undone at once).
        var ambient = System.Diagnostics.Activity.Current;
        var activities = rows.Select(row =>
        {
            var activity = Span(row);
            System.Diagnostics.Activity.Current = ambient;
            return activity;
        }).ToList();
        try
        {
            var batch = new GatewayEventBatch
            {
                Events = [.. rows.Select((row, i) => new GatewayEvent
                {
                    MessageId = row.MessageId,
                    Type = KnownType(row).Name,
                    Body = row.Body,
                    TraceParent = activities[i]?.Id ?? row.TraceParent,
                })],
            };
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(TimeSpan.FromSeconds(30));
            await bus.Publish(batch, publish => publish.MessageId = BatchId(rows), timeout.Token);
        }
        finally
        {
            foreach (var activity in activities)
            {
                activity?.Dispose();
            }
            System.Diagnostics.Activity.Current = ambient;
        }
        var sent = time.GetUtcNow();
        var sequences = rows.Select(r => r.Sequence).ToList();
        // Through the one writer: marked in the same group commit as whatever else is being written.
        await writer.WriteAsync((target, token) => target.Outbox.Where(o => sequences.Contains(o.Sequence))
            .ExecuteUpdateAsync(set => set.SetProperty(o => o.SentAt, sent).SetProperty(o => o.Attempts, o => o.Attempts + 1), token),
            cancellationToken);
        foreach (var row in rows.Where(r => r.Attempts == 0))
        {
            // The wait of an event's first publish alone (not a re-send's, nor a retry's after a failed publish).
            ToexTelemetry.OutboxWait.Record((sent - row.CreatedAt).TotalMilliseconds, new KeyValuePair<string, object?>("type", row.MessageType));
        }
        return rows.Count == BatchSize;
    }

    private sealed record Row(long Sequence, Guid MessageId, string MessageType, string Body, DateTimeOffset CreatedAt, int Attempts, string? TraceParent);

    private static System.Diagnostics.Activity? Span(Row row)
    {
        var activity = ToexTelemetry.StartLinkedTo("gateway.outbox.publish", row.TraceParent, System.Diagnostics.ActivityKind.Producer);
        activity?.SetTag("toex.message_type", row.MessageType);
        return activity;
    }

    private static Type KnownType(Row row) => GatewayOutboxEvents.ByName.TryGetValue(row.MessageType, out var type)
        ? type
        : throw new InvalidOperationException($"Outbox message {row.Sequence} has unknown type '{row.MessageType}'.");

    /// <summary>The batch's message id, derived from its events' ids: the same rows published again are the same batch.</summary>
    internal static Guid BatchId(IReadOnlyList<Guid> eventIds) =>
        DerivedId.From(eventIds[0], "outbox-batch/" + string.Join(',', eventIds.Skip(1).Select(id => id.ToString("N"))));

    private static Guid BatchId(List<Row> rows) => BatchId([.. rows.Select(r => r.MessageId)]);
}

/// <summary>Records an event in the outbox, to be published once the transaction that adds it commits.</summary>
public static class Outbox
{
    public static void Enqueue<T>(this GatewayDb db, T message, Guid messageId, DateTimeOffset now) where T : class
    {
        if (!GatewayOutboxEvents.Contains(typeof(T)))
        {
            throw new InvalidOperationException($"{typeof(T).Name} is not an event the outbox publishes.");
        }
        db.Outbox.Add(OutboxMessages.For(message, messageId, now));
    }
}
