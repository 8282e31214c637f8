using System.Collections.Concurrent;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace TOEX.Sharing.Cli.Tests;

/// <summary>
/// Real Kestrel on 127.0.0.1 standing in for the gateway's published keys and an empty feed: serves
/// <c>/.well-known/jwks.json</c> as given and <c>GET /api/v1/feed</c> with no items, and keeps the bearer token of
/// every feed read.
/// </summary>
public sealed class FakeGateway : IAsyncDisposable
{
    private readonly WebApplication _app;

    private FakeGateway(WebApplication app) => _app = app;

    public Uri Url { get; private set; } = null!;

    /// <summary>The bearer tokens of the feed reads, in arrival order.</summary>
    public ConcurrentQueue<string> FeedTokens { get; } = new();

    public static async Task<FakeGateway> StartAsync(string jwks)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrel().UseUrls("http://127.0.0.1:0");
        var app = builder.Build();
        var gateway = new FakeGateway(app);
        app.MapGet("/.well-known/jwks.json", () => Results.Text(jwks, "application/jwk-set+json"));
        app.MapGet("/api/v1/feed", (HttpContext context) =>
        {
            gateway.FeedTokens.Enqueue(context.Request.Headers.Authorization.ToString()["Bearer ".Length..]);
            return Results.Text("""{"items":[],"next":"0"}""", "application/json");
        });
        await app.StartAsync();
        gateway.Url = new Uri(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First());
        return gateway;
    }

    public async ValueTask DisposeAsync() => await _app.DisposeAsync();
}
