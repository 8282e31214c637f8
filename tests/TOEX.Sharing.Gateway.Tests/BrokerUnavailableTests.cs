using System.Net;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using TOEX.Sharing.Gateway.Data;
using TOEX.Sharing.Testing;

namespace TOEX.Sharing.Gateway.Tests;

/// <summary>The gateway on the real RabbitMQ transport, pointed at a port where no broker listens.</summary>
public sealed class BrokerUnavailableTests : IDisposable
{
    private readonly GatewayFactory _factory = new(
        rabbitMqUrl: $"amqp://toex:nothing@127.0.0.1:{FreePort.Next()}/", publishTimeout: TimeSpan.FromSeconds(2));

    public void Dispose() => _factory.Dispose();

    [Fact]
    public async Task Answers_503_with_Retry_After_and_records_nothing_when_the_broker_is_unreachable()
    {
        var response = await _factory.ClientFor("rocu-wm", "Packages.Submit").PostAsync("/api/v1/packages", Packages.Json(Packages.Example()));

        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType!.MediaType);
        Assert.Equal(TimeSpan.FromSeconds(30), response.Headers.RetryAfter!.Delta);
        await using var scope = _factory.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<GatewayDb>();
        Assert.Empty(await db.Submissions.ToListAsync());
        Assert.Empty(await db.Recipients.ToListAsync());
    }

    [Fact]
    public async Task Reports_itself_unready_but_alive_without_the_broker()
    {
        var client = _factory.CreateClient();

        var health = await client.GetAsync("/health");
        var alive = await client.GetAsync("/alive");

        Assert.Equal(HttpStatusCode.ServiceUnavailable, health.StatusCode);
        Assert.Equal(HttpStatusCode.OK, alive.StatusCode);
    }
}
