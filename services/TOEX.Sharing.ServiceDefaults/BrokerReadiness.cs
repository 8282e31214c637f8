using System.Globalization;
using MassTransit;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using RabbitMQ.Client;
using RabbitMQ.Client.Events;

namespace TOEX.Sharing.ServiceDefaults;

/// <summary>What the service knows of the broker right now, from its own probe connection (<see cref="BrokerMonitor"/>).</summary>
public enum BrokerCondition
{
    /// <summary>Not probed yet (the service is starting).</summary>
    Unknown,

    /// <summary>Connected, and the last probe message was confirmed.</summary>
    Available,

    /// <summary>No connection: the broker is down or unreachable.</summary>
    Unreachable,

    /// <summary>Connected, but the broker blocks publishers (a memory or disk alarm).</summary>
    Blocked,

    /// <summary>Connected, but a probe message was not confirmed in time (a partition, an overloaded node).</summary>
    NotConfirming,

    /// <summary>The bus is not on RabbitMQ (MassTransit's test harness): nothing to watch.</summary>
    NotWatched,
}

/// <summary>
/// The broker's condition as the service last saw it, with a reason written for callers of <c>/health</c> and of a
/// refused request. The gateway refuses submissions at once while <see cref="CanPublish"/> is false, instead of
/// holding each for its publish timeout.
/// </summary>
public sealed class BrokerStatus(TimeProvider time)
{
    private readonly Lock _gate = new();
    private BrokerCondition _condition = BrokerCondition.Unknown;
    private string _reason = "The service has not reached the message broker yet.";
    private DateTimeOffset _since = time.GetUtcNow();

    public BrokerCondition Condition
    {
        get
        {
            lock (_gate)
            {
                return _condition;
            }
        }
    }

    /// <summary>Whether a publish can be confirmed now, as far as the service knows.</summary>
    public bool CanPublish => Condition is BrokerCondition.Available or BrokerCondition.NotWatched;

    /// <summary>Why the broker cannot take the service's messages, or null when it can.</summary>
    public string? Reason
    {
        get
        {
            lock (_gate)
            {
                return _condition is BrokerCondition.Available or BrokerCondition.NotWatched
                    ? null
                    : string.Create(CultureInfo.InvariantCulture, $"{_reason} (since {_since:O})");
            }
        }
    }

    /// <summary>Records a new condition; returns true when it changed.</summary>
    public bool Set(BrokerCondition condition, string reason)
    {
        lock (_gate)
        {
            if (_condition == condition)
            {
                return false;
            }
            _condition = condition;
            _reason = reason;
            _since = time.GetUtcNow();
            return true;
        }
    }
}

/// <summary>
/// Watches the broker through a connection of its own, as the service's own broker user: it publishes a small probe
/// message every second to the service's own <c>&lt;service&gt;-broker-probe</c> exchange (no queue is bound: the
/// broker drops it) and waits for the broker's confirm. That tells at once when the broker is gone (the connection
/// closes), when it blocks publishers (RabbitMQ sends <c>connection.blocked</c> to publishing connections on a memory
/// or disk alarm) and when it stops confirming (a partition); and it reconnects every
/// <see cref="RabbitMqOptions.ReconnectInterval"/> until the broker is back. Its socket is dropped when the broker falls
/// silent (<see cref="SilentBrokerGuard"/>), and a connection whose probes go unconfirmed for two heartbeats is given up
/// for a new one: it never stays on a connection the network lost.
/// </summary>
public sealed partial class BrokerMonitor(
    BrokerStatus status, IBus bus, IOptions<RabbitMqOptions> options, ServiceName service, TimeProvider time, ILogger<BrokerMonitor> logger)
    : BackgroundService
{
    private static readonly TimeSpan ProbeInterval = TimeSpan.FromSeconds(1);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (bus.Address.Scheme is not ("rabbitmq" or "rabbitmqs"))
        {
            status.Set(BrokerCondition.NotWatched, "The bus is not on RabbitMQ.");
            return;
        }
        var settings = options.Value;
        var url = new Uri(settings.Url);
        var factory = new ConnectionFactory
        {
            Uri = url,
            AutomaticRecoveryEnabled = false,
            TopologyRecoveryEnabled = false,
            RequestedConnectionTimeout = settings.ProbeTimeout,
            ContinuationTimeout = settings.ProbeTimeout,
            RequestedHeartbeat = settings.Heartbeat,
            ClientProvidedName = $"{service.Name}-broker-monitor",
            SocketFactory = SilentBrokerGuard.SocketFactory(settings, time, logger),
        };
        if (url.Scheme == "amqps")
        {
            factory.Ssl = new SslOption(url.Host) { Enabled = true };
        }
        var endpoints = RabbitMqOptions.Endpoints(settings).Select(e => new AmqpTcpEndpoint(e.Host, e.Port, factory.Ssl)).ToList();
        var exchange = $"{service.Name}-broker-probe";
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await WatchAsync(factory, endpoints, exchange, settings.ProbeTimeout, settings.Heartbeat * 2, stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e)
            {
                if (status.Set(BrokerCondition.Unreachable, "The message broker is unreachable."))
                {
                    LogUnreachable(logger, e.GetType().Name, e.Message);
                }
            }
            try
            {
                await Task.Delay(settings.ReconnectInterval, stoppingToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    private async Task WatchAsync(ConnectionFactory factory, List<AmqpTcpEndpoint> endpoints, string exchange, TimeSpan timeout,
        TimeSpan giveUpAfter, CancellationToken stoppingToken)
    {
        // The whole opening (TCP, the AMQP handshake, the channel and its exchange) within twice the probe timeout: a peer that
        // accepts the connection and then says nothing (a black-holed network) held the handshake for good, and the
        // service refused every submission from then on although the broker was back.
        using var opening = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
        opening.CancelAfter(timeout * 2);
        await using var connection = await factory.CreateConnectionAsync(endpoints, factory.ClientProvidedName, opening.Token);
        var closed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var unblocked = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var blocked = false;
        connection.ConnectionShutdownAsync += (_, _) =>
        {
            closed.TrySetResult();
            return Task.CompletedTask;
        };
        connection.ConnectionBlockedAsync += (_, e) =>
        {
            Volatile.Write(ref blocked, true);
            if (status.Set(BrokerCondition.Blocked, $"The message broker refuses new messages: it reports '{e.Reason}' (a resource alarm)."))
            {
                LogBlocked(logger, e.Reason);
            }
            return Task.CompletedTask;
        };
        connection.ConnectionUnblockedAsync += (_, _) =>
        {
            Volatile.Write(ref blocked, false);
            unblocked.TrySetResult();
            return Task.CompletedTask;
        };
        await using var channel = await connection.CreateChannelAsync(
            new CreateChannelOptions(publisherConfirmationsEnabled: true, publisherConfirmationTrackingEnabled: true), opening.Token);
        await channel.ExchangeDeclareAsync(exchange, ExchangeType.Fanout, durable: false, autoDelete: false, cancellationToken: opening.Token);
        var body = "probe"u8.ToArray();
        long? unconfirmedSince = null;
        while (!closed.Task.IsCompleted)
        {
            using var probe = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
            probe.CancelAfter(timeout);
            try
            {
                await channel.BasicPublishAsync(exchange, "", mandatory: false, new BasicProperties(), body, probe.Token);
                unconfirmedSince = null;
                if (status.Set(BrokerCondition.Available, "The message broker is available."))
                {
                    LogAvailable(logger, connection.Endpoint.ToString());
                }
            }
            catch (OperationCanceledException) when (!stoppingToken.IsCancellationRequested)
            {
                if (Volatile.Read(ref blocked))
                {
                    // Blocked by an alarm (the status says so): probe again once the broker lifts it; not a reason to give up the connection.
                    unconfirmedSince = null;
                    await Task.WhenAny(closed.Task, unblocked.Task, Task.Delay(Timeout.Infinite, stoppingToken));
                    unblocked = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                    continue;
                }
                if (!closed.Task.IsCompleted && status.Set(BrokerCondition.NotConfirming, string.Create(CultureInfo.InvariantCulture,
                        $"The message broker did not confirm a message within {timeout.TotalSeconds:0.#} s.")))
                {
                    LogNotConfirming(logger, timeout.TotalSeconds);
                }
                unconfirmedSince ??= time.GetTimestamp();
                if (time.GetElapsedTime(unconfirmedSince.Value) >= giveUpAfter)
                {
                    // Not confirming for two heartbeats: a new connection, rather than this one for good (the status stays
                    // NotConfirming until a probe on the new one is confirmed). Disposing it aborts it, within 5 s at most.
                    LogGivenUp(logger, giveUpAfter.TotalSeconds);
                    return;
                }
                continue;
            }
            await Task.WhenAny(closed.Task, Task.Delay(ProbeInterval, stoppingToken));
        }
        if (status.Set(BrokerCondition.Unreachable, "The message broker closed the connection."))
        {
            LogUnreachable(logger, "closed", connection.CloseReason?.ReplyText ?? "");
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "The message broker is unreachable ({Error}: {Detail}); readiness reports it and submissions are refused until it returns")]
    private static partial void LogUnreachable(ILogger logger, string error, string detail);

    [LoggerMessage(Level = LogLevel.Warning, Message = "The message broker blocks publishers ({Reason}); readiness reports it and submissions are refused until it clears")]
    private static partial void LogBlocked(ILogger logger, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "The message broker did not confirm a probe within {Seconds} s; readiness reports it")]
    private static partial void LogNotConfirming(ILogger logger, double seconds);

    [LoggerMessage(Level = LogLevel.Warning, Message = "The message broker confirmed no probe for {Seconds} s; the probe's connection is given up for a new one")]
    private static partial void LogGivenUp(ILogger logger, double seconds);

    [LoggerMessage(Level = LogLevel.Information, Message = "The message broker is available ({Endpoint})")]
    private static partial void LogAvailable(ILogger logger, string endpoint);
}

/// <summary>The service's name on the broker (<c>gateway</c>, <c>policy-decision</c>, <c>audit</c>).</summary>
public sealed record ServiceName(string Name);

/// <summary>
/// Which of the service's receive endpoints consume from the broker now. MassTransit's own endpoint health cannot say:
/// when a connection is lost, the old transport's consumer reports it has completed only once its in-flight messages
/// are done, which can be after the next connection is already consuming, and MassTransit then shows the endpoint as
/// stopped for good (readiness stayed 503 after the broker's return in about 1 fault run in 6). Here an endpoint
/// consumes from its latest ready until it faults or stops; a completion says nothing about the current connection
/// (every transport that stops on its own either faults first or is stopping).
/// </summary>
public sealed partial class ConsumingEndpoints(ILogger<ConsumingEndpoints> logger) : IReceiveEndpointObserver
{
    private readonly System.Collections.Concurrent.ConcurrentDictionary<Uri, bool> _consuming = new();

    public bool IsConsuming(Uri inputAddress) => _consuming.TryGetValue(inputAddress, out var consuming) && consuming;

    public Task Ready(ReceiveEndpointReady ready)
    {
        if (_consuming.TryGetValue(ready.InputAddress, out var before) && !before)
        {
            LogConsumingAgain(logger, Name(ready.InputAddress));
        }
        _consuming[ready.InputAddress] = true;
        return Task.CompletedTask;
    }

    public Task Stopping(ReceiveEndpointStopping stopping)
    {
        _consuming[stopping.InputAddress] = false;
        return Task.CompletedTask;
    }

    public Task Faulted(ReceiveEndpointFaulted faulted)
    {
        if (!_consuming.TryGetValue(faulted.InputAddress, out var before) || before)
        {
            LogNotConsuming(logger, Name(faulted.InputAddress), faulted.Exception?.GetType().Name ?? "", faulted.Exception?.Message ?? "");
        }
        _consuming[faulted.InputAddress] = false;
        return Task.CompletedTask;
    }

    public Task Completed(ReceiveEndpointCompleted completed) => Task.CompletedTask;

    private static string Name(Uri inputAddress) => inputAddress.AbsolutePath.Split('/')[^1];

    [LoggerMessage(Level = LogLevel.Warning, Message = "Endpoint {Endpoint} is not consuming ({Error}: {Detail}); readiness reports it until it reconnects")]
    private static partial void LogNotConsuming(ILogger logger, string endpoint, string error, string detail);

    [LoggerMessage(Level = LogLevel.Information, Message = "Endpoint {Endpoint} is consuming again")]
    private static partial void LogConsumingAgain(ILogger logger, string endpoint);
}

/// <summary>
/// <c>/health</c>: unhealthy (503), naming why, while the broker cannot take the service's messages
/// (<see cref="BrokerStatus"/>) or one of the service's own endpoints is not consuming from it (<see cref="ConsumingEndpoints"/>).
/// </summary>
public sealed class BrokerHealthCheck(BrokerStatus status, IBusControl bus, ConsumingEndpoints consuming) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        if (status.Reason is { } reason)
        {
            return Task.FromResult(HealthCheckResult.Unhealthy(reason));
        }
        var endpoints = bus.CheckHealth().Endpoints.Values.Select(e => e.InputAddress).ToList();
        var waiting = endpoints.Where(address => !consuming.IsConsuming(address))
            .Select(address => address.AbsolutePath.Split('/')[^1]).Order(StringComparer.Ordinal).ToList();
        if (endpoints.Count == 0 || waiting.Count > 0)
        {
            return Task.FromResult(HealthCheckResult.Unhealthy(waiting.Count == 0
                ? "The service is not yet consuming from the message broker."
                : $"The service is not yet consuming from the message broker: {string.Join(", ", waiting)} reconnecting."));
        }
        return Task.FromResult(HealthCheckResult.Healthy());
    }
}
