using System.Text.Json.Nodes;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Hosting.Internal;
using Microsoft.Extensions.Options;
using TOEX.Sharing.Gateway.Delivery;
using TOEX.Sharing.Policy;
using TOEX.Sharing.ServiceDefaults;
using TOEX.Sharing.Testing;

namespace TOEX.Sharing.Gateway.Tests;

/// <summary>Where a push partner's webhooks go: the policy set's endpoint, or outside Production a registry file beside its keys.</summary>
public sealed class WebhookEndpointsTests : IDisposable
{
    private readonly DirectoryInfo _registry = Directory.CreateTempSubdirectory("toex-webhook-endpoints-");
    private static readonly PolicySet Policies = PolicySet.Load(RepoPaths.Policies);

    public void Dispose() => _registry.Delete(recursive: true);

    private WebhookEndpoints For(string environment) => new(
        new PolicySetMonitor(RepoPaths.Policies, Policies, Microsoft.Extensions.Logging.Abstractions.NullLogger<PolicySetMonitor>.Instance, TimeProvider.System),
        Options.Create(new GatewayOptions { PartnerKeysPath = _registry.FullName }),
        new HostingEnvironment { EnvironmentName = environment });

    private void Register(string partner, string endpoint, bool localDevelopment) =>
        File.WriteAllText(Path.Combine(_registry.FullName, partner + ".webhook.json"),
            new JsonObject { ["endpoint"] = endpoint, ["localDevelopment"] = localDevelopment }.ToJsonString());

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Production_ignores_the_registry_file_and_uses_the_policy_sets_endpoint(bool localDevelopment)
    {
        Register("wmp", "https://attacker.example/hooks", localDevelopment);

        var (endpoint, problem) = For(Environments.Production).Resolve("wmp");

        Assert.Null(problem);
        Assert.Equal(new Uri("https://wmp.example/hooks/toex"), endpoint!.Url);
        Assert.False(endpoint.LocalDevelopment);
    }

    [Fact]
    public void Development_takes_a_local_development_endpoint_from_the_registry()
    {
        Register("wmp", "http://127.0.0.1:5090/hooks/wmp", localDevelopment: true);

        var (endpoint, problem) = For(Environments.Development).Resolve("wmp");

        Assert.Null(problem);
        Assert.Equal(new Uri("http://127.0.0.1:5090/hooks/wmp"), endpoint!.Url);
        Assert.True(endpoint.LocalDevelopment);
    }
}
