using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using TOEX.Sharing.Testing;

namespace TOEX.Sharing.Faults.Tests;

/// <summary>
/// Submits packages as an originator's system would through faults: each package until the gateway answers 202 (a
/// 503 must carry Retry-After, and is tried again; a refused or dropped connection is tried again), never giving up on
/// one. Two kinds of package of <c>deploy/samples</c>: to wmp, staffs and nca (three permits: two pushes and a feed),
/// and to bcc-childrens and wmp (a permit, sanitised, and a deny).
/// </summary>
public sealed class Workload(FaultServices stack, string prefix)
{
    private static readonly string[] Templates = ["rocuwm-2026-000124.json", "rocuwm-2026-000123.json"];

    private readonly ConcurrentDictionary<int, Guid> _accepted = new();
    private readonly ConcurrentQueue<string> _errors = new();
    private readonly ConcurrentQueue<(TimeSpan Sent, TimeSpan Answered)> _answers202 = new();
    private readonly System.Diagnostics.Stopwatch _clock = System.Diagnostics.Stopwatch.StartNew();
    private int _unavailable;
    private int _connectionFailures;
    private int _submitted;

    /// <summary>The packages answered 202.</summary>
    public IReadOnlyCollection<Guid> Accepted => [.. _accepted.Values];

    /// <summary>503 answers (each with Retry-After) before a package was accepted.</summary>
    public int Unavailable => Volatile.Read(ref _unavailable);

    /// <summary>Attempts that found no gateway, or none that answered in time.</summary>
    public int ConnectionFailures => Volatile.Read(ref _connectionFailures);

    /// <summary>Packages accepted so far.</summary>
    public int Submitted => Volatile.Read(ref _submitted);

    /// <summary>Anything other than 202, 503 with Retry-After, or no connection: each fails the run.</summary>
    public IReadOnlyList<string> Errors => [.. _errors];

    /// <summary>The run's clock: when each 202 was asked for and answered, and when faults begin and end.</summary>
    public TimeSpan Now => _clock.Elapsed;

    /// <summary>202 answers to requests sent after <paramref name="from"/> and answered before <paramref name="to"/>.</summary>
    public int AcceptedWithin(TimeSpan from, TimeSpan to) => _answers202.Count(a => a.Sent >= from && a.Answered <= to);

    public string Summary => string.Create(CultureInfo.InvariantCulture,
        $"{_accepted.Count} accepted, {Unavailable} answered 503 with Retry-After, {ConnectionFailures} found no gateway, {_errors.Count} other answers");

    /// <summary>Submits packages <paramref name="from"/> to <paramref name="to"/> (exclusive), <paramref name="parallel"/> at a time.</summary>
    public async Task RunAsync(int from, int to, int parallel, CancellationToken cancellationToken = default)
    {
        var templates = await Task.WhenAll(Templates.Select(t => File.ReadAllTextAsync(Path.Combine(RepoPaths.Root, "deploy", "samples", t), cancellationToken)));
        using var client = stack.Client(stack.Gateway, "rocu-wm", "Packages.Submit");
        client.Timeout = TimeSpan.FromSeconds(20);
        await Parallel.ForEachAsync(Enumerable.Range(from, to - from), new ParallelOptions { MaxDegreeOfParallelism = parallel, CancellationToken = cancellationToken },
            async (n, ct) =>
            {
                var package = JsonNode.Parse(templates[n % templates.Length])!.AsObject();
                package["reference"] = string.Create(CultureInfo.InvariantCulture, $"ROCUWM-2026-{prefix}{n:D6}");
                var json = package.ToJsonString();
                _accepted[n] = await SubmitUntilAcceptedAsync(client, json, n, ct);
                Interlocked.Increment(ref _submitted);
            });
    }

    private async Task<Guid> SubmitUntilAcceptedAsync(HttpClient client, string json, int n, CancellationToken cancellationToken)
    {
        while (true)
        {
            var sent = _clock.Elapsed;
            try
            {
                using var response = await client.PostAsync("/api/v1/packages", new StringContent(json, Encoding.UTF8, "application/json"), cancellationToken);
                if (response.StatusCode == HttpStatusCode.Accepted)
                {
                    _answers202.Enqueue((sent, _clock.Elapsed));
                    return Guid.Parse((string)(await response.Content.ReadFromJsonAsync<JsonObject>(cancellationToken))!["id"]!);
                }
                var body = await response.Content.ReadAsStringAsync(cancellationToken);
                if (response.StatusCode == HttpStatusCode.ServiceUnavailable && response.Headers.RetryAfter?.Delta is not null
                    && response.Content.Headers.ContentType?.MediaType == "application/problem+json")
                {
                    Interlocked.Increment(ref _unavailable);
                }
                else
                {
                    _errors.Enqueue($"package {n}: {(int)response.StatusCode} {body}");
                }
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException && !cancellationToken.IsCancellationRequested)
            {
                Interlocked.Increment(ref _connectionFailures);
            }
            // The gateway says 1 s (Gateway:RetryAfterSeconds in these runs); a quarter of it keeps the runs short.
            await Task.Delay(TimeSpan.FromMilliseconds(250), cancellationToken);
        }
    }
}
