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
/// <see cref="Stopwatch"/> timestamps, shared by every phase; and, for the phase that expects a copy, a count of its
/// expected copies that have arrived, kept as they arrive, so asking "has everything arrived?" costs the same at
/// the end of a run of 20,000 packages as at its start.
/// </summary>
internal sealed class Arrivals
{
    private readonly ConcurrentDictionary<(Guid Package, string Partner), Copy> copies = new();

    /// <summary>A copy has reached its partner (a later sighting of the same copy changes nothing).</summary>
    public void Seen(Guid package, string partner, long at)
    {
        var copy = copies.GetOrAdd((package, partner), _ => new Copy());
        lock (copy)
        {
            if (copy.At != 0)
            {
                return;
            }
            copy.At = at;
            copy.ExpectedBy?.Arrived();
        }
    }

    /// <summary><paramref name="tally"/> waits for this copy (it may have arrived already: a push can beat the submitter's 202).</summary>
    public void Expect(Guid package, string partner, ArrivalTally tally)
    {
        var copy = copies.GetOrAdd((package, partner), _ => new Copy());
        lock (copy)
        {
            copy.ExpectedBy = tally;
            tally.Expected();
            if (copy.At != 0)
            {
                tally.Arrived();
            }
        }
    }

    public bool TryGet(Guid package, string partner, out long at)
    {
        at = copies.TryGetValue((package, partner), out var copy) ? Volatile.Read(ref copy.At) : 0;
        return at != 0;
    }

    private sealed class Copy
    {
        public long At;
        public ArrivalTally? ExpectedBy;
    }
}

/// <summary>How many copies a phase expects, and how many of them have arrived.</summary>
internal sealed class ArrivalTally
{
    private int expected;
    private int arrived;

    public int ExpectedCount => Volatile.Read(ref expected);
    public int ArrivedCount => Volatile.Read(ref arrived);

    public void Expected() => Interlocked.Increment(ref expected);
    public void Arrived() => Interlocked.Increment(ref arrived);
}

/// <summary>
/// The push partners' endpoints (<c>/hooks/PARTNER</c> on loopback): answers 200 at once, as a partner's receiver that
/// queues what it gets would, and notes when each copy arrived. It keeps nothing else (a run pushes gigabytes).
/// The signature is not checked here (the delivery tests do that); the cost of making it is the gateway's, and counted.
/// Of the body it reads only the push's type and its package id, which come before the sealed copy (<see cref="JsonPick"/>).
/// </summary>
internal sealed class PushSink(WebApplication app, Uri url) : IAsyncDisposable
{
    /// <summary>The top-level <c>type</c> (a release, not a recall) and <c>data.packageId</c>, in the order they are sent.</summary>
    private static readonly byte[][] PushFields = ["type"u8.ToArray(), "packageId"u8.ToArray()];

    private static ReadOnlySpan<byte> PackageReleased => "package.released"u8;

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
            var released = false;
            Guid? package = null;
            await JsonPick.ReadAsync(request.BodyReader, PushFields, (int name, ref Utf8JsonReader value) =>
            {
                if (name == 0 && value.CurrentDepth == 1)
                {
                    released = value.ValueTextEquals(PackageReleased);
                }
                else if (name == 1 && value.CurrentDepth == 2)
                {
                    package = value.GetGuid();
                }
                return package is null;
            });
            if (released && package is { } id)
            {
                arrivals.Seen(id, partner, Stopwatch.GetTimestamp());
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
