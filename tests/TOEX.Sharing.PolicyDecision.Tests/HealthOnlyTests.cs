using System.Net;
using MassTransit;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.TestHost;
using TOEX.Sharing.Testing;

namespace TOEX.Sharing.PolicyDecision.Tests;

/// <summary>PolicyDecision has no API: its only routes are /health and /alive, for probes, open to anyone.</summary>
public sealed class HealthOnlyTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("toex-pd-http-").FullName;
    private readonly WebApplicationFactory<Program> _factory;

    public HealthOnlyTests()
    {
        _factory = new WebApplicationFactory<Program>().WithWebHostBuilder(builder =>
        {
            builder.UseEnvironment("Development");
            builder.UseSetting("RabbitMq:Url", "amqp://unused:unused@127.0.0.1:1/");
            builder.UseSetting("PolicyDecision:PoliciesPath", RepoPaths.Policies);
            builder.UseSetting("PolicyDecision:KeyRingPath", Path.Combine(_root, "keys"));
            builder.UseSetting("PolicyDecision:PublicJwksPath", Path.Combine(_root, "policy-decision.jwks.json"));
            builder.ConfigureTestServices(services => services.AddMassTransitTestHarness(bus =>
                bus.AddConsumer<PackageSubmittedConsumer, PackageSubmittedConsumerDefinition>()));
        });
    }

    public void Dispose()
    {
        _factory.Dispose();
        Directory.Delete(_root, recursive: true);
    }

    [Fact]
    public async Task Its_only_routes_are_health_and_alive_open_to_anyone()
    {
        using var client = _factory.CreateClient();

        Assert.Equal(["* /alive", "* /health"], RouteMatrix.Routes(_factory.Services));
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/alive")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/health")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync("/openapi/v1.json")).StatusCode);
    }
}
