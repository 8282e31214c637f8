using System.Collections.Concurrent;
using MassTransit;

namespace TOEX.Sharing.Testing;

/// <summary>
/// Every consumption on the bus, awaitable by message id and delivery number. The harness's
/// <c>Consumed</c> list keeps one element per message id, so a redelivery (the same id again) never
/// shows there; this observer sees each delivery.
/// </summary>
public sealed class Consumptions : IConsumeObserver
{
    /// <summary>The header a test sets to tell two deliveries of one message apart.</summary>
    public const string DeliveryHeader = "toex-test-delivery";

    private readonly ConcurrentDictionary<(Guid, string), TaskCompletionSource> _done = new();
    private readonly ConcurrentDictionary<(Guid, string), Exception> _faults = new();
    private readonly ConcurrentDictionary<(Guid, string), TaskCompletionSource<Exception>> _faulted = new();

    /// <summary>Completes when delivery <paramref name="delivery"/> of <paramref name="messageId"/> has been consumed without a fault.</summary>
    public async Task WaitAsync(Guid messageId, string delivery, TimeSpan timeout)
    {
        try
        {
            await Completion((messageId, delivery)).Task.WaitAsync(timeout);
        }
        catch (TimeoutException)
        {
            var fault = _faults.TryGetValue((messageId, delivery), out var exception) ? $" Last fault: {exception}" : "";
            throw new TimeoutException($"Delivery {delivery} of message {messageId} was not consumed within {timeout.TotalSeconds:0} s.{fault}");
        }
    }

    /// <summary>Completes with the first fault of delivery <paramref name="delivery"/> of <paramref name="messageId"/> (a retried attempt faulting counts).</summary>
    public async Task<Exception> WaitFaultAsync(Guid messageId, string delivery, TimeSpan timeout)
    {
        try
        {
            return await Faulted((messageId, delivery)).Task.WaitAsync(timeout);
        }
        catch (TimeoutException)
        {
            throw new TimeoutException($"Delivery {delivery} of message {messageId} did not fault within {timeout.TotalSeconds:0} s.");
        }
    }

    public Task PreConsume<T>(ConsumeContext<T> context) where T : class => Task.CompletedTask;

    public Task PostConsume<T>(ConsumeContext<T> context) where T : class
    {
        if (Key(context) is { } key)
        {
            Completion(key).TrySetResult();
        }
        return Task.CompletedTask;
    }

    public Task ConsumeFault<T>(ConsumeContext<T> context, Exception exception) where T : class
    {
        // A fault may be retried; the waiter reports the last one if no attempt succeeds in time.
        if (Key(context) is { } key)
        {
            _faults[key] = exception;
            Faulted(key).TrySetResult(exception);
        }
        return Task.CompletedTask;
    }

    private TaskCompletionSource Completion((Guid, string) key) =>
        _done.GetOrAdd(key, _ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));

    private TaskCompletionSource<Exception> Faulted((Guid, string) key) =>
        _faulted.GetOrAdd(key, _ => new TaskCompletionSource<Exception>(TaskCreationOptions.RunContinuationsAsynchronously));

    private static (Guid, string)? Key(ConsumeContext context) =>
        context.MessageId is { } id && context.Headers.Get<string>(DeliveryHeader) is { } delivery ? (id, delivery) : null;
}
