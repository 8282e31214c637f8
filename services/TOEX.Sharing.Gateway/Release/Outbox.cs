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
/// Publishes what committed transactions left in the outbox, oldest first, with their stored message ids (so a
/// publish repeated after a crash is recognised downstream), and marks each sent once the broker confirmed it.
/// </summary>
public sealed class OutboxRelay(IServiceScopeFactory scopes, IBus bus, OutboxSignal signal, TimeProvider time,
    ILogger<OutboxRelay> logger) : BackgroundService
{
    private const int BatchSize = 100;
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
    /// Publishes up to one batch; true when there may be more. The batch's publishes are in flight together (one
    /// wait for the broker's confirms, not one per message) and are marked sent in one commit: a crash between the
    /// two publishes them again with the same message ids, which every consumer recognises. Messages whose publish
    /// failed stay unsent and go again in the next batch.
    /// </summary>
    private async Task<bool> PublishBatchAsync(CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<GatewayDb>();
        var batch = await db.Outbox.Where(o => o.SentAt == null).OrderBy(o => o.Sequence).Take(BatchSize).ToListAsync(cancellationToken);
        if (batch.Count == 0)
        {
            return false;
        }
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(30));
        var publishes = batch.Select(message => PublishOneAsync(message, timeout.Token)).ToList();
        try
        {
            await Task.WhenAll(publishes);
        }
        finally
        {
            // Whatever was confirmed is marked sent, even when another publish of the batch failed.
            await db.SaveChangesAsync(cancellationToken);
        }
        return batch.Count == BatchSize;
    }

    private async Task PublishOneAsync(OutboxMessage message, CancellationToken cancellationToken)
    {
        message.Attempts++;
        using (var activity = ToexTelemetry.StartLinkedTo("gateway.outbox.publish", message.TraceParent, System.Diagnostics.ActivityKind.Producer))
        {
            activity?.SetTag("toex.message_type", message.MessageType);
            await PublishAsync(message, cancellationToken);
        }
        message.SentAt = time.GetUtcNow();
        if (message.Attempts > 1)
        {
            // A re-send (or a retry after a failed publish): the wait is the first publish's alone.
            return;
        }
        ToexTelemetry.OutboxWait.Record((message.SentAt.Value - message.CreatedAt).TotalMilliseconds,
            new KeyValuePair<string, object?>("type", message.MessageType));
    }

    private Task PublishAsync(OutboxMessage message, CancellationToken cancellationToken)
    {
        if (!Outbox.Types.TryGetValue(message.MessageType, out var type))
        {
            throw new InvalidOperationException($"Outbox message {message.Sequence} has unknown type '{message.MessageType}'.");
        }
        var body = System.Text.Json.JsonSerializer.Deserialize(message.Body, type, ToexJson.Options)
            ?? throw new InvalidOperationException($"Outbox message {message.Sequence} is empty.");
        return bus.Publish(body, type, publish => publish.MessageId = message.MessageId, cancellationToken);
    }
}

/// <summary>Records an event in the outbox, to be published once the transaction that adds it commits.</summary>
public static class Outbox
{
    /// <summary>The events the gateway publishes, by the name stored with each outbox message.</summary>
    public static readonly IReadOnlyDictionary<string, Type> Types = GatewayOutboxEvents.Types.ToDictionary(t => t.Name);

    public static void Enqueue<T>(this GatewayDb db, T message, Guid messageId, DateTimeOffset now) where T : class
    {
        if (!Types.ContainsKey(typeof(T).Name))
        {
            throw new InvalidOperationException($"{typeof(T).Name} is not an event the outbox publishes.");
        }
        db.Outbox.Add(OutboxMessages.For(message, messageId, now));
    }
}
