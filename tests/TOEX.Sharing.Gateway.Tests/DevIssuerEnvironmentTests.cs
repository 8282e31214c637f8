using System.Net;
using System.Net.Http.Headers;
using TOEX.Sharing.Sealing;
using TOEX.Sharing.Testing;

namespace TOEX.Sharing.Gateway.Tests;

/// <summary>The development issuer exists in Development and the test environments only.</summary>
public sealed class DevIssuerEnvironmentTests : IAsyncLifetime
{
    private TestIssuer _issuer = null!;

    public async Task InitializeAsync() => _issuer = await TestIssuer.StartAsync();

    public async Task DisposeAsync() => await _issuer.DisposeAsync();

    private GatewayFactory In(string environment)
    {
        var factory = new GatewayFactory { Environment = environment };
        factory.Settings["Authentication:Issuers:0:Name"] = "force-idp";
        factory.Settings["Authentication:Issuers:0:Authority"] = _issuer.Authority;
        factory.Settings["Authentication:Issuers:0:Audience"] = "toex-sharing-test";
        factory.Settings["Authentication:Issuers:0:RequireHttpsMetadata"] = "false";
        factory.Settings["Authentication:Issuers:0:Organisations:0"] = "safe-haven";
        factory.Settings["Authentication:Issuers:0:Roles:0"] = "Feed.Read";
        return factory;
    }

    [Theory]
    [InlineData("Staging")]
    [InlineData("UAT")]
    public async Task Outside_Development_the_development_issuer_is_off_by_default(string environment)
    {
        using var factory = In(environment);
        using var client = factory.CreateClient();
        using var issuer = DevIssuer.OpenOrCreate(factory.DevIssuerDirectory, TimeProvider.System);
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer",
            issuer.CreateToken("safe-haven", ["Feed.Read"], "tester", TimeSpan.FromMinutes(5)));

        Assert.Equal(HttpStatusCode.Unauthorized, (await client.GetAsync("/api/v1/feed")).StatusCode);
        using var trusted = factory.CreateClient();
        trusted.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer",
            _issuer.Token("toex-sharing-test", "safe-haven", ["Feed.Read"]));
        Assert.Equal(HttpStatusCode.OK, (await trusted.GetAsync("/api/v1/feed")).StatusCode);
    }

    [Theory]
    [InlineData("Staging")]
    [InlineData("Production")]
    public void Enabling_it_in_any_other_environment_stops_the_service_at_start(string environment)
    {
        using var factory = In(environment);
        factory.Settings["Authentication:DevIssuer:Enabled"] = "true";

        var failure = Assert.ThrowsAny<Exception>(() => factory.CreateClient());

        Assert.Contains("Authentication:DevIssuer:Enabled", failure.ToString(), StringComparison.Ordinal);
    }
}
