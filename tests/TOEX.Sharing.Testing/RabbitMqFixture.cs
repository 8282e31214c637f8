using Xunit;
using Xunit.Abstractions;
using Xunit.Sdk;

namespace TOEX.Sharing.Testing;

/// <summary>
/// An xUnit fixture giving a test class or collection its own fresh virtual host on the
/// process-wide <see cref="RabbitMqBroker"/>; the virtual host is deleted afterwards.
/// xUnit only finds collection definitions in the test assembly itself, so a project declares:
/// <code>
/// [CollectionDefinition(RabbitMqFixture.CollectionName)]
/// public sealed class RabbitMqCollection : ICollectionFixture&lt;RabbitMqFixture&gt;;
/// </code>
/// or uses <c>IClassFixture&lt;RabbitMqFixture&gt;</c> directly. Override
/// <see cref="VirtualHostPrefix"/> in a subclass to name the virtual hosts after the suite.
/// </summary>
public class RabbitMqFixture(IMessageSink diagnostics) : IAsyncLifetime
{
    public const string CollectionName = "rabbitmq";

    private RabbitMqBroker? broker;
    private BrokerVhost? virtualHost;

    /// <summary>The process-wide broker (for more virtual hosts, or to stop and restart a private node).</summary>
    public RabbitMqBroker Broker => broker ?? throw NotInitialised();

    /// <summary>This fixture's own virtual host.</summary>
    public BrokerVhost VirtualHost => virtualHost ?? throw NotInitialised();

    /// <summary>The start of the virtual host's name.</summary>
    protected virtual string VirtualHostPrefix => "test";

    public virtual async Task InitializeAsync()
    {
        broker = await RabbitMqBroker.GetSharedAsync();
        virtualHost = await broker.CreateVirtualHostAsync(VirtualHostPrefix);
        foreach (var warning in broker.Warnings)
        {
            diagnostics.OnMessage(new DiagnosticMessage("[TOEX.Sharing.Testing] warning: {0}", warning));
        }

        diagnostics.OnMessage(new DiagnosticMessage(
            "[TOEX.Sharing.Testing] {0} ({1})",
            virtualHost,
            broker.IsPrivateNode ? $"private node in {broker.NodeDirectory}, started in {broker.StartupTime?.TotalSeconds:0.0} s" : "external broker"));
        diagnostics.OnMessage(new DiagnosticMessage("[TOEX.Sharing.Testing] test infrastructure: {0}", await TestInfrastructure.ChoiceAsync()));
    }

    public virtual async Task DisposeAsync()
    {
        if (broker is not null && virtualHost is not null)
        {
            await broker.DeleteVirtualHostAsync(virtualHost.Name);
        }
    }

    private static InvalidOperationException NotInitialised() =>
        new("The RabbitMQ fixture is used before xUnit initialised it.");
}
