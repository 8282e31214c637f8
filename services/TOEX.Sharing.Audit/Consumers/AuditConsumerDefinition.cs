using MassTransit;

namespace TOEX.Sharing.Audit.Consumers;

/// <summary>Every audit consumer: retried, on a quorum queue with a delivery limit, then to its error queue; never dropped.</summary>
public sealed class AuditConsumerDefinition<TConsumer> : ConsumerDefinition<TConsumer> where TConsumer : class, IConsumer
{
    protected override void ConfigureConsumer(IReceiveEndpointConfigurator endpointConfigurator,
        IConsumerConfigurator<TConsumer> consumerConfigurator, IRegistrationContext context)
    {
        endpointConfigurator.UseMessageRetry(retry => retry.Exponential(10, TimeSpan.FromMilliseconds(100),
            TimeSpan.FromSeconds(30), TimeSpan.FromMilliseconds(500)));
        if (endpointConfigurator is IRabbitMqReceiveEndpointConfigurator rabbit)
        {
            rabbit.SetQuorumQueue();
            rabbit.SetQueueArgument("x-delivery-limit", 20);
        }
    }
}
