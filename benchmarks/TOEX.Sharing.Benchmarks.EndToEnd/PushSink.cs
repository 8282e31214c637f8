using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using TOEX.Sharing.Testing;

namespace TOEX.Sharing.Benchmarks.EndToEnd;

/// <summary>
/// Where each copy was first seen by its partner (a push received, or a feed read that returned it), as
/// <see cref="Stopwatch"/> timestamps, shared by every phase.
/// </summary>
internal sealed class Arrivals
{
    private readonly ConcurrentDictionary<(Guid Package, string Partner), long> seen = new();

    public void Seen(Guid package, string partner, long at) => seen.TryAdd((package, partner), at);

    public bool TryGet(Guid package, string partner, out long at) => seen.TryGetValue((package, partner), out at);
}

/// <summary>
/// The push partners' endpoints (<c>/hooks/PARTNER</c> on loopback): answers 200 at once, as a partner's receiver that
/// queues what it gets would, and notes when each copy arrived. It keeps nothing else (a run pushes gigabytes).
/// The signature is not checked here (the delivery tests do that); the cost of making it is the gateway's, and counted.
/// </summary>
internal sealed class PushSink(WebApplication app, Uri url) : IAsyncDisposable
{
    public Uri Url { get; } = url;

    public static async Task<PushSink> StartAsync(Arrivals arrivals)
    {
        var url = new Uri($"http://127.0.0.1:{FreePort.Next()}");
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls(url.ToString());
        var app = builder.Build();
        app.MapPost("/hooks/{partner}", async (string partner, HttpRequest request) =>
        {
            using var body = await JsonDocument.ParseAsync(request.Body);
            var now = Stopwatch.GetTimestamp();
            var data = body.RootElement.GetProperty("data");
            if (data.GetProperty("kind").GetString() == "package")
            {
                arrivals.Seen(data.GetProperty("packageId").GetGuid(), partner, now);
            }
            return Results.Ok();
        });
        await app.StartAsync();
        return new PushSink(app, url);
    }

    public async ValueTask DisposeAsync()
    {
        await app.StopAsync();
        await app.DisposeAsync();
    }
}
