using System.Collections.Concurrent;
using System.Globalization;
using MassTransit;
using MassTransit.RabbitMqTransport;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using RabbitMQ.Client;
using RabbitMQ.Client.Exceptions;

namespace TOEX.Sharing.ServiceDefaults;

/// <summary>
/// Where a service's messages go when the broker gives up on them, and how the service tells an operator they are there.
/// <para>
/// Every durable endpoint's quorum queue has a delivery limit (<see cref="DurableConsumerDefinition{TConsumer}"/>). A
/// message that exceeds it (delivered again and again without being acknowledged: one that kills the consumer process
/// each time, or whose consumer is killed mid-message over and over) would be dropped by the broker; instead the queue
/// dead-letters it, at least once (<c>x-dead-letter-strategy=at-least-once</c>, which needs
/// <c>x-overflow=reject-publish</c>), through the exchange <c>&lt;service&gt;-dead-letter</c> to the queue
/// <c>&lt;service&gt;-dead-letter</c>. The broker keeps a message in its source queue until the dead-letter queue has
/// confirmed it, so nothing is lost between the two. A message that fails its retries with an exception goes, as
/// before, to the endpoint's <c>…_error</c> queue (MassTransit moves it there with the exception in its headers).
/// </para>
/// <para>
/// <c>/health</c> reports <see cref="HealthStatus.Degraded"/> (200: a poison message must not take the service out
/// of a load balancer; the other messages still flow) under <c>reasons["dead-letters"]</c>, naming each of these
/// queues that holds messages and how many: never their content.
/// </para>
/// </summary>
public static class DeadLetters
{
    /// <summary>The health check's name: <c>reasons["dead-letters"]</c>.</summary>
    public const string CheckName = "dead-letters";

    /// <summary>The suffix MassTransit gives an endpoint's error queue.</summary>
    public const string ErrorQueueSuffix = "_error";

    /// <summary>The service's dead-letter exchange and queue (the same name): <c>&lt;service&gt;-dead-letter</c>.</summary>
    public static string For(string service) => $"{service}-dead-letter";

    /// <summary>The dead-letter queue, the check in <c>/health</c> and the monitor that declares the one and feeds the other.</summary>
    internal static IServiceCollection AddDeadLetterWatch(this IServiceCollection services)
    {
        services.AddSingleton<DeadLetterCounts>();
        services.AddSingleton<ErrorQueues>();
        services.AddHostedService<DeadLetterMonitor>();
        services.AddHealthChecks().AddCheck<DeadLetterHealthCheck>(CheckName, tags: [Extensions.ExplainTag]);
        return services;
    }
}

/// <summary>How many messages each of the service's dead-letter and error queues held when last counted (only those holding any).</summary>
public sealed class DeadLetterCounts
{
    private IReadOnlyDictionary<string, uint> _counts = new Dictionary<string, uint>();

    public IReadOnlyDictionary<string, uint> Current => Volatile.Read(ref _counts);

    public long Total => Current.Values.Sum(c => (long)c);

    /// <summary>Replaces the counts; returns the queues that hold more than before.</summary>
    internal IReadOnlyList<string> Set(IReadOnlyDictionary<string, uint> counts)
    {
        var before = Interlocked.Exchange(ref _counts, counts);
        return [.. counts.Where(c => c.Value > before.GetValueOrDefault(c.Key)).Select(c => c.Key).Order(StringComparer.Ordinal)];
    }
}

/// <summary>
/// The error queue of each of the service's receive endpoints, exactly as MassTransit will declare it when it first moves a
/// message there (its exchange, its queue with the endpoint's own queue arguments, their binding), as MassTransit's send
/// topology builds it (<c>SendTopology.ConfigureErrorSettings</c>, called once per endpoint as the bus builds it).
/// <see cref="DeadLetterMonitor"/> declares them at start, so it never counts a queue that does not exist (a passive
/// declare of a missing queue is an error in the broker's log, every count), and MassTransit's own declare, later, finds
/// the same queue with the same arguments.
/// </summary>
public sealed class ErrorQueues
{
    private readonly ConcurrentDictionary<string, ErrorSettings> _settings = new(StringComparer.Ordinal);

    /// <summary>For <c>SendTopology.ConfigureErrorSettings</c>: keeps what MassTransit will declare; changes nothing.</summary>
    public void Record(IRabbitMqQueueBindingConfigurator configurator)
    {
        if (configurator is ErrorSettings settings and MassTransit.RabbitMqTransport.Topology.Queue queue)
        {
            _settings[queue.QueueName] = settings;
        }
    }

    /// <summary>What MassTransit declares for the error queue <paramref name="queue"/>, or null if it builds no such queue.</summary>
    internal MassTransit.RabbitMqTransport.Topology.BrokerTopology? Topology(string queue) =>
        _settings.TryGetValue(queue, out var settings) ? settings.GetBrokerTopology() : null;
}

/// <summary>
/// Declares the service's dead-letter exchange and queue (a fanout exchange bound to a durable quorum queue, no limit,
/// no consumer) and its endpoints' error queues as MassTransit would (<see cref="ErrorQueues"/>), and counts, every
/// <see cref="CountInterval"/>, the messages waiting in each, by a passive declare over a connection of its own as the
/// service's own broker user (no management credentials). It declares again on every reconnection, so a deleted queue
/// comes back. It never asks for a queue that may not exist: each failed passive declare is an error in the broker's log.
/// </summary>
public sealed partial class DeadLetterMonitor(
    DeadLetterCounts counts, ErrorQueues errorQueues, IBusControl bus, IOptions<RabbitMqOptions> options, ServiceName service,
    TimeProvider time, ILogger<DeadLetterMonitor> logger)
    : BackgroundService
{
    internal static readonly TimeSpan CountInterval = TimeSpan.FromSeconds(5);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (bus.Address.Scheme is not ("rabbitmq" or "rabbitmqs"))
        {
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
            ClientProvidedName = $"{service.Name}-dead-letter-monitor",
            RequestedHeartbeat = settings.Heartbeat,
            SocketFactory = SilentBrokerGuard.SocketFactory(settings, time, logger),
            Ssl = new SslOption(url.Host) { Enabled = url.Scheme == "amqps" },
        };
        var endpoints = RabbitMqOptions.Endpoints(settings).Select(e => new AmqpTcpEndpoint(e.Host, e.Port, factory.Ssl)).ToList();
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await using var connection = await factory.CreateConnectionAsync(endpoints, factory.ClientProvidedName, stoppingToken);
                try
                {
                    await DeclareAsync(connection, stoppingToken);
                }
                catch (OperationInterruptedException e) when (e.ShutdownReason?.Initiator == ShutdownInitiator.Peer
                    && e.ShutdownReason.ReplyCode is Constants.AccessRefused or Constants.PreconditionFailed)
                {
                    // Refused by the broker, not lost: the service's user may not declare it, or it exists with other arguments.
                    LogNotDeclared(logger, DeadLetters.For(service.Name), e.ShutdownReason.ReplyText);
                    throw;
                }
                var declared = new HashSet<string>(StringComparer.Ordinal);
                while (connection.IsOpen)
                {
                    await CountAsync(connection, declared, stoppingToken);
                    await Task.Delay(CountInterval, stoppingToken);
                }
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e)
            {
                // The broker check reports an unreachable broker; the last counts stand until they can be read again.
                LogNotCounted(logger, e.GetType().Name, e.Message);
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

    private async Task DeclareAsync(IConnection connection, CancellationToken cancellationToken)
    {
        var name = DeadLetters.For(service.Name);
        await using var channel = await connection.CreateChannelAsync(cancellationToken: cancellationToken);
        await channel.ExchangeDeclareAsync(name, ExchangeType.Fanout, durable: true, autoDelete: false, cancellationToken: cancellationToken);
        await channel.QueueDeclareAsync(name, durable: true, exclusive: false, autoDelete: false,
            new Dictionary<string, object?> { ["x-queue-type"] = "quorum" }, cancellationToken: cancellationToken);
        await channel.QueueBindAsync(name, name, "", cancellationToken: cancellationToken);
    }

    /// <summary>An error queue's exchange, queue and binding, with MassTransit's own names, flags and arguments.</summary>
    private static async Task DeclareAsync(IChannel channel, MassTransit.RabbitMqTransport.Topology.BrokerTopology topology,
        CancellationToken cancellationToken)
    {
        foreach (var exchange in topology.Exchanges)
        {
            await channel.ExchangeDeclareAsync(exchange.ExchangeName, exchange.ExchangeType, exchange.Durable, exchange.AutoDelete,
                exchange.ExchangeArguments, cancellationToken: cancellationToken);
        }
        foreach (var queue in topology.Queues)
        {
            await channel.QueueDeclareAsync(queue.QueueName, queue.Durable, queue.Exclusive, queue.AutoDelete, queue.QueueArguments,
                cancellationToken: cancellationToken);
        }
        foreach (var binding in topology.QueueBindings)
        {
            await channel.QueueBindAsync(binding.Destination.QueueName, binding.Source.ExchangeName, binding.RoutingKey, binding.Arguments,
                cancellationToken: cancellationToken);
        }
    }

    /// <summary>
    /// Declares, once a connection, the error queues of endpoints not declared on it yet (their exchange, queue and binding,
    /// as MassTransit does), then counts. An endpoint whose error queue MassTransit did not describe is counted only once
    /// its queue exists (MassTransit declares it with the first message it moves there), found by a passive declare.
    /// </summary>
    private async Task CountAsync(IConnection connection, HashSet<string> declared, CancellationToken cancellationToken)
    {
        var busQueue = $"{service.Name}-bus-";
        var queues = bus.CheckHealth().Endpoints.Values
            .Select(e => e.InputAddress.AbsolutePath.Split('/')[^1])
            .Where(q => !q.StartsWith(busQueue, StringComparison.Ordinal))
            .Select(q => q + DeadLetters.ErrorQueueSuffix)
            .Prepend(DeadLetters.For(service.Name))
            .Distinct(StringComparer.Ordinal).ToList();
        var found = new Dictionary<string, uint>(StringComparer.Ordinal);
        var channel = await connection.CreateChannelAsync(cancellationToken: cancellationToken);
        try
        {
            foreach (var queue in queues)
            {
                if (!declared.Contains(queue) && errorQueues.Topology(queue) is { } topology)
                {
                    try
                    {
                        await DeclareAsync(channel, topology, cancellationToken);
                    }
                    catch (OperationInterruptedException e) when (e.ShutdownReason?.ReplyCode == Constants.PreconditionFailed)
                    {
                        // It exists with other arguments (made by an earlier version): counted as it is, not declared again.
                        LogErrorQueueDiffers(logger, queue, e.ShutdownReason.ReplyText);
                        await channel.DisposeAsync();
                        channel = await connection.CreateChannelAsync(cancellationToken: cancellationToken);
                    }
                    declared.Add(queue);
                }
                try
                {
                    var waiting = await channel.QueueDeclarePassiveAsync(queue, cancellationToken);
                    if (waiting.MessageCount > 0)
                    {
                        found[queue] = waiting.MessageCount;
                    }
                }
                catch (OperationInterruptedException e) when (e.ShutdownReason?.ReplyCode == Constants.NotFound)
                {
                    // Only an error queue MassTransit did not describe (declared by MassTransit with the first message it
                    // moves there): none yet. The broker closed the channel; count the rest on a new one.
                    await channel.DisposeAsync();
                    channel = await connection.CreateChannelAsync(cancellationToken: cancellationToken);
                }
            }
        }
        finally
        {
            await channel.DisposeAsync();
        }
        foreach (var queue in counts.Set(found))
        {
            LogWaiting(logger, queue, found[queue]);
        }
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "{Queue} holds {Count} messages the service could not process; they wait for an operator (docs/operations.md, 'Dead-lettered messages')")]
    private static partial void LogWaiting(ILogger logger, string queue, uint count);

    [LoggerMessage(Level = LogLevel.Error, Message = "The dead-letter queue {Queue} could not be declared ({Detail}): messages over their delivery limit stay in their queues until it is")]
    private static partial void LogNotDeclared(ILogger logger, string queue, string detail);

    [LoggerMessage(Level = LogLevel.Warning, Message = "The error queue {Queue} exists with other arguments than MassTransit gives it now ({Detail}): counted as it is; MassTransit cannot move a message there until an operator deletes it while empty")]
    private static partial void LogErrorQueueDiffers(ILogger logger, string queue, string detail);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Dead-letter and error queues not counted ({Error}: {Detail}); trying again")]
    private static partial void LogNotCounted(ILogger logger, string error, string detail);
}

/// <summary>
/// <c>/health</c>: <see cref="HealthStatus.Degraded"/> while any of the service's dead-letter or error queues holds
/// messages, naming each queue and its count. Degraded, not unhealthy: the service still does its work for every other
/// message, and a load balancer must keep sending it traffic.
/// </summary>
public sealed class DeadLetterHealthCheck(DeadLetterCounts counts) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var current = counts.Current;
        if (current.Count == 0)
        {
            return Task.FromResult(HealthCheckResult.Healthy());
        }
        var queues = string.Join(", ", current.OrderBy(c => c.Key, StringComparer.Ordinal)
            .Select(c => string.Create(CultureInfo.InvariantCulture, $"{c.Key} {c.Value}")));
        return Task.FromResult(HealthCheckResult.Degraded(string.Create(CultureInfo.InvariantCulture,
            $"Messages the service could not process wait for an operator: {queues}.")));
    }
}
