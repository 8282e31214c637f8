using System.ComponentModel.DataAnnotations;
using MassTransit;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace TOEX.Sharing.ServiceDefaults;

/// <summary>Where the broker is: <c>RabbitMq:Url</c>, e.g. <c>amqp://user:pass@127.0.0.1:5672/vhost</c>.</summary>
public sealed class RabbitMqOptions
{
    public const string Section = "RabbitMq";

    [Required(ErrorMessage = "RabbitMq:Url is required (amqp://user:password@host:port/vhost).")]
    public string Url { get; set; } = "";
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
            .ValidateOnStart();

        builder.Services.AddMassTransit(bus =>
        {
            bus.SetEndpointNameFormatter(new KebabCaseEndpointNameFormatter(service, includeNamespace: false));
            bus.AddConfigureEndpointsCallback((_, endpoint) => endpoint.PublishFaults = false);
            configure(bus);
            bus.UsingRabbitMq((context, cfg) =>
            {
                var url = new Uri(context.GetRequiredService<IOptions<RabbitMqOptions>>().Value.Url);
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
                    if (url.Scheme == "amqps")
                    {
                        h.UseSsl(ssl => ssl.ServerName = url.Host);
                    }
                });
                cfg.OverrideDefaultBusEndpointQueueName($"{service}-bus-{NewId.Next():N}");
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
/// How every TOEX consumer takes its messages: retried with exponential back-off, on a quorum queue with a delivery
/// limit, then to its <c>_error</c> queue; never dropped. Subclasses change the numbers or add to the endpoint.
/// </summary>
public class DurableConsumerDefinition<TConsumer> : ConsumerDefinition<TConsumer> where TConsumer : class, IConsumer
{
    protected int Retries { get; init; } = 5;

    protected TimeSpan FirstRetryDelay { get; init; } = TimeSpan.FromMilliseconds(200);

    protected TimeSpan MaxRetryDelay { get; init; } = TimeSpan.FromSeconds(10);

    protected int DeliveryLimit { get; init; } = 10;

    /// <summary>Exceptions that the same message would only raise again: straight to the error queue, no retry.</summary>
    protected IReadOnlyList<Type> NotRetried { get; init; } = [];

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
        });
        if (endpointConfigurator is IRabbitMqReceiveEndpointConfigurator rabbit)
        {
            rabbit.SetQuorumQueue();
            rabbit.SetQueueArgument("x-delivery-limit", DeliveryLimit);
        }
    }
}
