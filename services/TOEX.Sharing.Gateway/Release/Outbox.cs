using MassTransit;
using Microsoft.EntityFrameworkCore;
using TOEX.Sharing.Contracts;
using TOEX.Sharing.Gateway.Data;

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
/// Publishes what committed transactions left in the outbox, in order, with their stored message ids (so a
/// publish repeated after a crash is recognised downstream), and marks each sent once the broker confirmed it.
/// </summary>
public sealed class OutboxRelay(IServiceScopeFactory scopes, IBus bus, OutboxSignal signal, TimeProvider time,
    ILogger<OutboxRelay> logger) : BackgroundService
{
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

    /// <summary>Publishes up to one batch; true when there may be more.</summary>
    private async Task<bool> PublishBatchAsync(CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<GatewayDb>();
        var batch = await db.Outbox.Where(o => o.SentAt == null).OrderBy(o => o.Sequence).Take(100).ToListAsync(cancellationToken);
        foreach (var message in batch)
        {
            message.Attempts++;
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(TimeSpan.FromSeconds(30));
            await PublishAsync(message, timeout.Token);
            message.SentAt = time.GetUtcNow();
            await db.SaveChangesAsync(cancellationToken);
        }
        return batch.Count == 100;
    }

    private Task PublishAsync(OutboxMessage message, CancellationToken cancellationToken) => message.MessageType switch
    {
        nameof(PackageReleased) => Publish<PackageReleased>(message, cancellationToken),
        nameof(DecisionRejected) => Publish<DecisionRejected>(message, cancellationToken),
        nameof(ConsultationRecorded) => Publish<ConsultationRecorded>(message, cancellationToken),
        _ => throw new InvalidOperationException($"Outbox message {message.Sequence} has unknown type '{message.MessageType}'."),
    };

    private Task Publish<T>(OutboxMessage message, CancellationToken cancellationToken) where T : class =>
        bus.Publish(ToexJson.Deserialize<T>(message.Body), publish => publish.MessageId = message.MessageId, cancellationToken);
}
