using System.ComponentModel.DataAnnotations;
using MassTransit;
using MassTransit.RabbitMqTransport;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace TOEX.Sharing.ServiceDefaults;

/// <summary>Where the broker is: <c>RabbitMq:Url</c>, e.g. <c>amqp://user:pass@127.0.0.1:5672/vhost</c>.</summary>
public sealed class RabbitMqOptions
{
    public const string Section = "RabbitMq";

    [Required(ErrorMessage = "RabbitMq:Url is required (amqp://user:password@host:port/vhost).")]
    public string Url { get; set; } = "";

    /// <summary>More nodes of the same cluster (<c>host:port</c>), tried in turn after the node of <see cref="Url"/>.</summary>
    public List<string> Nodes { get; set; } = [];

    /// <summary>How soon a lost connection is tried again: the consumers' and the readiness probe's.</summary>
    [Range(typeof(TimeSpan), "00:00:00.100", "00:01:00", ErrorMessage = "RabbitMq:ReconnectInterval must be between 100 ms and 1 min.")]
    public TimeSpan ReconnectInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// The AMQP heartbeat every connection to the broker asks for. A connection whose peer falls silent (a black-holed
    /// network, a firewall that lost the flow) is closed, and reconnected, after about two heartbeats without a frame;
    /// with RabbitMQ's own 60 s that took 2-3 minutes, with submissions refused and consumers stopped all along.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:01", "00:10:00", ErrorMessage = "RabbitMq:Heartbeat must be between 1 s and 10 min.")]
    public TimeSpan Heartbeat { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// How long the readiness probe waits to connect, or for the broker to confirm its message, before it reports the broker
    /// unavailable; and how long any connection to the broker waits for the broker's first bytes before it is dropped and
    /// opened again (<see cref="SilentBrokerGuard"/>).
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00.500", "00:01:00", ErrorMessage = "RabbitMq:ProbeTimeout must be between 500 ms and 1 min.")]
    public TimeSpan ProbeTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>The node of <see cref="Url"/> first, then <see cref="Nodes"/>.</summary>
    public static IReadOnlyList<(string Host, int Port)> Endpoints(RabbitMqOptions options)
    {
        var url = new Uri(options.Url);
        var nodes = new List<(string, int)> { (url.Host, url.IsDefaultPort || url.Port < 0 ? (url.Scheme == "amqps" ? 5671 : 5672) : url.Port) };
        foreach (var node in options.Nodes)
        {
            var colon = node.LastIndexOf(':');
            nodes.Add((node[..colon], int.Parse(node[(colon + 1)..], System.Globalization.CultureInfo.InvariantCulture)));
        }
        return nodes;
    }

    internal static bool IsNode(string node)
    {
        var colon = node.LastIndexOf(':');
        return colon > 0 && int.TryParse(node[(colon + 1)..], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var port)
            && port is > 0 and <= 65535;
    }
}

public static class Messaging
{
    /// <summary>
    /// MassTransit over RabbitMQ: kebab-case endpoints, publisher confirms, quorum queues with a delivery
    /// limit, and the service's consumers registered by <paramref name="configure"/>.
    /// Every queue and exchange the service owns is named <c>&lt;service&gt;-…</c> (its endpoints, their
    /// error queues, its bus endpoint), so the broker can confine the service's own user to them
    /// (<c>deploy/rabbitmq/definitions.json</c>). Faults are not published as events: a message that
    /// fails its retries goes to the endpoint's <c>_error</c> queue, and no service may declare or write
    /// the fault exchanges of another's messages.
    /// </summary>
    public static IHostApplicationBuilder AddToexMessaging(
        this IHostApplicationBuilder builder, string service, Action<IBusRegistrationConfigurator> configure, bool waitUntilStarted = false)
    {
        ArgumentException.ThrowIfNullOrEmpty(service);
        builder.Services.AddOptions<RabbitMqOptions>()
            .BindConfiguration(RabbitMqOptions.Section)
            .ValidateDataAnnotations()
            .Validate(o => Uri.TryCreate(o.Url, UriKind.Absolute, out var uri) && uri.Scheme is "amqp" or "amqps",
                "RabbitMq:Url must be an amqp:// or amqps:// URL.")
            .Validate(o => o.Nodes.TrueForAll(RabbitMqOptions.IsNode), "RabbitMq:Nodes must each be host:port.")
            .ValidateOnStart();
        builder.Services.AddSingleton(new ServiceName(service));
        builder.Services.AddSingleton<BrokerStatus>();
        builder.Services.AddHostedService<BrokerMonitor>();
        builder.Services.AddSingleton<ConsumingEndpoints>();
        builder.Services.AddReceiveEndpointObserver(provider => provider.GetRequiredService<ConsumingEndpoints>());
        builder.Services.AddHealthChecks().AddCheck<BrokerHealthCheck>("broker", tags: [Extensions.ExplainTag]);
        builder.Services.AddDeadLetterWatch();

        builder.Services.AddMassTransit(bus =>
        {
            bus.SetEndpointNameFormatter(new KebabCaseEndpointNameFormatter(service, includeNamespace: false));
            bus.AddConfigureEndpointsCallback((_, endpoint) => endpoint.PublishFaults = false);
            configure(bus);
            bus.UsingRabbitMq((context, cfg) =>
            {
                var options = context.GetRequiredService<IOptions<RabbitMqOptions>>().Value;
                var url = new Uri(options.Url);
                var credentials = url.UserInfo.Split(':', 2);
                var virtualHost = Uri.UnescapeDataString(url.AbsolutePath.TrimStart('/'));
                cfg.Host(url.Host, (ushort)(url.IsDefaultPort || url.Port < 0 ? 5672 : url.Port),
                    virtualHost.Length == 0 ? "/" : virtualHost, h =>
                {
                    if (credentials.Length == 2)
                    {
                        h.Username(Uri.UnescapeDataString(credentials[0]));
                        h.Password(Uri.UnescapeDataString(credentials[1]));
                    }
                    h.PublisherConfirmation = true;
                    h.Heartbeat(options.Heartbeat);
                    // MassTransit's connection is dropped when the broker falls silent, and opened again (SilentBrokerGuard).
                    var guard = SilentBrokerGuard.SocketFactory(options, context.GetService<TimeProvider>() ?? TimeProvider.System,
                        context.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(SilentBrokerGuard)));
                    h.OnRefreshConnectionFactory = factory =>
                    {
                        factory.SocketFactory = guard;
                        return Task.CompletedTask;
                    };
                    if (options.Nodes.Count > 0)
                    {
                        h.UseCluster(cluster =>
                        {
                            foreach (var (host, port) in RabbitMqOptions.Endpoints(options))
                            {
                                cluster.Node($"{host}:{port.ToString(System.Globalization.CultureInfo.InvariantCulture)}");
                            }
                        });
                    }
                    if (url.Scheme == "amqps")
                    {
                        h.UseSsl(ssl => ssl.ServerName = url.Host);
                    }
                });
                Reconnection.Apply(cfg, options.ReconnectInterval);
                cfg.OverrideDefaultBusEndpointQueueName($"{service}-bus-{NewId.Next():N}");
                cfg.SendTopology.ConfigureErrorSettings = context.GetRequiredService<ErrorQueues>().Record;
                cfg.ConfigureEndpoints(context);
            });
        });
        builder.Services.AddOptions<MassTransitHostOptions>().Configure(o =>
        {
            o.WaitUntilStarted = waitUntilStarted;
            o.StopTimeout = TimeSpan.FromSeconds(10);
        });
        return builder;
    }
}

/// <summary>
/// The endpoints one service sends to directly, by name, rather than publishing to every subscriber: the one home of
/// each name, for the service that consumes there (its consumer definition sets it) and the one that sends.
/// </summary>
public static class SentEndpoints
{
    /// <summary>
    /// PolicyDecision's endpoint for <c>PackageSubmitted</c> (the name the kebab-case formatter gave it before it was named
    /// here): the gateway asks for a decision again there, for a submission whose decision never came, without the audit
    /// ledger receiving the submission a second time. The gateway's broker user may write only this exchange of PolicyDecision's.
    /// </summary>
    public const string PolicyDecisionPackageSubmitted = "policy-decision-package-submitted";
}

/// <summary>
/// How every TOEX consumer takes its messages: retried with exponential back-off, then to its <c>_error</c> queue; on a
/// quorum queue with a delivery limit, beyond which the broker dead-letters the message (at least once) to the
/// service's <c>&lt;service&gt;-dead-letter</c> queue (<see cref="DeadLetters"/>); never dropped. Subclasses change the
/// numbers or add to the endpoint.
/// </summary>
public class DurableConsumerDefinition<TConsumer> : ConsumerDefinition<TConsumer> where TConsumer : class, IConsumer
{
    protected int Retries { get; init; } = 5;

    protected TimeSpan FirstRetryDelay { get; init; } = TimeSpan.FromMilliseconds(200);

    protected TimeSpan MaxRetryDelay { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// Deliveries of one message the broker makes before it dead-letters it. MassTransit retries in memory, so a
    /// message is delivered again only when its consumer did not settle it: the process died or lost its connection.
    /// </summary>
    protected int DeliveryLimit { get; init; } = 10;

    /// <summary>Exceptions that the same message would only raise again: straight to the error queue, no retry.</summary>
    protected IReadOnlyList<Type> NotRetried { get; init; } = [];

    /// <summary>
    /// How long a message is tried again while its store is unavailable (<see cref="StoreFailures.IsTransient"/>: a database
    /// restarting or unreachable), every <see cref="StoreRetryInterval"/>, before the ordinary retries count it: an outage of
    /// the store is waited for, not turned into error-queue messages.
    /// </summary>
    protected TimeSpan StoreOutage { get; init; } = TimeSpan.FromMinutes(2);

    protected TimeSpan StoreRetryInterval { get; init; } = TimeSpan.FromSeconds(1);

    protected override void ConfigureConsumer(IReceiveEndpointConfigurator endpointConfigurator,
        IConsumerConfigurator<TConsumer> consumerConfigurator, IRegistrationContext context)
    {
        endpointConfigurator.UseMessageRetry(retry =>
        {
            retry.Exponential(Retries, FirstRetryDelay, MaxRetryDelay, TimeSpan.FromMilliseconds(500));
            if (NotRetried.Count > 0)
            {
                retry.Ignore([.. NotRetried]);
            }
            // Waited for inside (below); past the store's outage, to the error queue.
            retry.Ignore<Exception>(StoreFailures.IsTransient);
        });
        endpointConfigurator.UseMessageRetry(retry =>
        {
            retry.Handle<Exception>(StoreFailures.IsTransient);
            retry.Interval((int)Math.Ceiling(StoreOutage / StoreRetryInterval), StoreRetryInterval);
        });
        if (endpointConfigurator is IRabbitMqReceiveEndpointConfigurator rabbit)
        {
            rabbit.SetDurableQueue(context.GetRequiredService<ServiceName>(), DeliveryLimit);
        }
    }
}

/// <summary>The one shape of every durable endpoint's queue on RabbitMQ.</summary>
public static class DurableQueues
{
    /// <summary>
    /// A quorum queue (on every node of a cluster) that the broker redelivers at most <paramref name="deliveryLimit"/>
    /// times, then dead-letters to the service's <c>&lt;service&gt;-dead-letter</c>: without a dead-letter exchange a quorum
    /// queue drops a message over its delivery limit. At least once: the broker keeps it until the dead-letter queue
    /// confirms it (which needs reject-publish overflow; no length limit is set, so nothing is ever rejected for length).
    /// </summary>
    public static void SetDurableQueue(this IRabbitMqReceiveEndpointConfigurator rabbit, ServiceName service, int deliveryLimit)
    {
        rabbit.SetQuorumQueue();
        rabbit.SetQueueArgument("x-delivery-limit", deliveryLimit);
        rabbit.SetQueueArgument("x-dead-letter-exchange", DeadLetters.For(service.Name));
        rabbit.SetQueueArgument("x-dead-letter-strategy", "at-least-once");
        rabbit.SetQueueArgument("x-overflow", "reject-publish");
    }
}

/// <summary>
/// How soon consumers reconnect after the broker returns. MassTransit 8.5 retries a lost receive transport on a fixed
/// policy (exponential from 3 s to 30 s, never reset after a success), so consumers resumed 14-28 s after the broker
/// came back; it offers no setting for it. This replaces that policy on the bus's host configuration with one that
/// tries every <see cref="RabbitMqOptions.ReconnectInterval"/> (with ±25% jitter), for the same exceptions. MassTransit
/// is pinned (Directory.Packages.props): if its fields change, the service refuses to start saying so.
/// </summary>
internal static class Reconnection
{
    public static void Apply(IRabbitMqBusFactoryConfigurator configurator, TimeSpan interval)
    {
        const System.Reflection.BindingFlags Private = System.Reflection.BindingFlags.Instance | System.Reflection.BindingFlags.NonPublic;
        var host = configurator.GetType().GetField("_hostConfiguration", Private)?.GetValue(configurator);
        var policy = host?.GetType().GetField("<ReceiveTransportRetryPolicy>k__BackingField", Private)
            ?? throw new InvalidOperationException(
                $"MassTransit {typeof(IBus).Assembly.GetName().Version} no longer has the receive transport's retry policy where "
                + "TOEX.Sharing.ServiceDefaults.Reconnection sets it: review it before upgrading MassTransit.");
        policy.SetValue(host, Retry.CreatePolicy(retry =>
        {
            retry.Handle<ConnectionException>();
            retry.Handle<RabbitMQ.Client.Exceptions.AlreadyClosedException>();
            retry.Handle<EndOfStreamException>();
            retry.Handle<RabbitMQ.Client.Exceptions.OperationInterruptedException>(e => e.ChannelShouldBeClosed());
            retry.Handle<NotSupportedException>(e => e.Message.Contains("Pipelining of requests forbidden", StringComparison.Ordinal));
            retry.Ignore<RabbitMQ.Client.Exceptions.AuthenticationFailureException>();
            retry.Exponential(int.MaxValue, interval / 2, interval, interval / 4);
        }));
    }
}
