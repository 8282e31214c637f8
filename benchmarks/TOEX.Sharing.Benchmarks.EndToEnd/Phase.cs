using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;

namespace TOEX.Sharing.Benchmarks.EndToEnd;

/// <summary>What one phase measured.</summary>
internal sealed record PhaseResult(
    string Name, int Packages, int Failed, int Permitted, TimeSpan SubmitTime, TimeSpan ToFeeds, TimeSpan? ToLedger,
    double[] LatenciesMs, CpuUse Cpu,
    IReadOnlyDictionary<string, long> BrokerMessages, IReadOnlyList<string> Errors, IReadOnlyList<(TimeSpan At, Dictionary<string, double> MiB)> Memory,
    string LoadBefore, string LoadAfter)
{
    public double PackagesPerSecond => Packages / ToFeeds.TotalSeconds;

    public IReadOnlyDictionary<string, (double CpuSeconds, double PeakMiB)> Processes => Cpu.Processes;
}

/// <summary>
/// One run of packages against the stack: clients submit through <c>POST /api/v1/packages</c> (each client its own
/// caller of rocu-wm), while each permitted pull partner reads its own feed (<c>GET /api/v1/feed</c>, as a partner
/// would, every 20 ms while it is empty) and each push partner's endpoint receives its webhooks. A package's
/// submit-to-delivery latency is measured per permitted copy, from the moment its submission began (in the fixed-rate
/// run, the moment it was due, so a backlog counts) to the moment its partner had it (a feed read returned it, or its
/// push arrived). The phase ends when every permitted copy has reached its partner and the ledger holds every entry
/// the packages cause. The client keeps its own work small, since it shares the machine with what it measures: it reads
/// only the fields it needs from responses, feed pages and pushes (<see cref="JsonPick"/>), and checks for the end
/// with two counters (<see cref="ArrivalTally"/>, and the ledger's last index) rather than by walking what it sent.
/// </summary>
internal sealed class Phase(BenchStack stack, Workload workload, HttpClient http)
{
    private static readonly TimeSpan FeedPoll = TimeSpan.FromMilliseconds(20);
    private static readonly byte[][] IdField = ["id"u8.ToArray()];
    private static readonly byte[][] FeedFields = ["packageId"u8.ToArray(), "next"u8.ToArray()];

    private readonly ConcurrentDictionary<Guid, long> submittedAt = new();
    private readonly ConcurrentDictionary<Guid, BenchPackage> accepted = new();
    private readonly ConcurrentQueue<string> errors = new();
    private readonly ArrivalTally tally = new();
    private int failed;
    private int expectedEntries;

    /// <summary>Feed cursors carry over from one phase to the next: each partner reads on from where it was.</summary>
    private static readonly ConcurrentDictionary<string, string> Cursors = new();

    /// <summary>Entries in the ledger before the phase.</summary>
    private long ledgerBefore;

    public async Task<PhaseResult> RunAsync(string name, int count, int clients, int? rate, TimeSpan? duration, TimeSpan memoryInterval)
    {
        ledgerBefore = await stack.LedgerEntriesAsync();
        var brokerBefore = await stack.Broker.MessageStatsAsync(stack.Vhost.Name);
        var loadBefore = ProcessStats.MachineLoad();
        await using var sampler = new Sampler(stack.Measured, memoryInterval);
        sampler.Start();
        using var stopPolling = new CancellationTokenSource();
        // Pull partners read their feeds; push partners get webhooks (PushSink) and do not poll.
        var partners = Workload.Templates.SelectMany(t => t.For(workload.Options.Recipients)).Distinct()
            .Where(p => !stack.PushPartners.Contains(p)).ToList();
        var pollers = partners.Select(p => PollAsync(p, stopPolling.Token)).ToList();

        var clock = Stopwatch.StartNew();
        var start = Stopwatch.GetTimestamp();
        var total = rate is { } r ? (int)(r * duration!.Value.TotalSeconds) : count;
        var next = -1;
        var tokens = Enumerable.Range(0, clients)
            .Select(i => stack.Token("rocu-wm", $"bench-client-{i.ToString(CultureInfo.InvariantCulture)}", "Packages.Submit")).ToList();
        var submitters = tokens.Select(token => Task.Run(async () =>
        {
            int index;
            while ((index = Interlocked.Increment(ref next)) < total)
            {
                var package = workload.Next();
                long due;
                if (rate is { } perSecond)
                {
                    // Open loop: package i is due at start + i / rate, whether or not earlier ones have finished.
                    due = start + (long)(index * (double)Stopwatch.Frequency / perSecond);
                    var wait = Stopwatch.GetElapsedTime(Stopwatch.GetTimestamp(), due);
                    if (wait > TimeSpan.Zero)
                    {
                        await Task.Delay(wait);
                    }
                }
                else
                {
                    due = Stopwatch.GetTimestamp();
                }
                await SubmitAsync(package, token, due);
            }
        })).ToList();
        await Task.WhenAll(submitters);
        var submitTime = clock.Elapsed;

        var permitted = tally.ExpectedCount;
        var timeout = TimeSpan.FromSeconds(Math.Max(120, submitTime.TotalSeconds * 3));
        TimeSpan toFeeds;
        while (true)
        {
            var seen = tally.ArrivedCount;
            if (seen >= permitted)
            {
                toFeeds = clock.Elapsed;
                break;
            }
            if (clock.Elapsed > submitTime + timeout)
            {
                errors.Enqueue($"only {seen} of {permitted} permitted copies reached their feeds within {timeout.TotalSeconds:0} s after the last submission");
                toFeeds = clock.Elapsed;
                break;
            }
            await Task.Delay(20);
        }

        var expectedEntries = Volatile.Read(ref this.expectedEntries);
        TimeSpan? toLedger = null;
        while (clock.Elapsed < toFeeds + timeout)
        {
            var entries = await stack.LedgerEntriesAsync() - ledgerBefore;
            if (entries >= expectedEntries)
            {
                toLedger = clock.Elapsed;
                if (entries > expectedEntries)
                {
                    errors.Enqueue($"the ledger holds {entries} entries for this phase; {expectedEntries} were expected");
                }
                break;
            }
            await Task.Delay(100);
        }
        if (toLedger is null)
        {
            errors.Enqueue($"the ledger did not reach the {expectedEntries} entries expected within {timeout.TotalSeconds:0} s");
        }
        await stopPolling.CancelAsync();
        await Task.WhenAll(pollers);
        var cpu = await sampler.StopAsync();

        var latencies = accepted.Values
            .SelectMany(p => p.Permitted.Select(partner => (Id: Guid(p), Partner: partner)))
            .Select(k => (k.Id, Seen: stack.Arrivals.TryGet(k.Id, k.Partner, out var at) ? at : (long?)null))
            .Where(k => k.Seen is not null && submittedAt.ContainsKey(k.Id))
            .Select(k => Stopwatch.GetElapsedTime(submittedAt[k.Id], k.Seen!.Value).TotalMilliseconds)
            .Order().ToArray();
        var brokerAfter = await SettledBrokerStatsAsync();
        var broker = brokerAfter.ToDictionary(kv => kv.Key, kv => kv.Value - brokerBefore.GetValueOrDefault(kv.Key));
        return new PhaseResult(name, accepted.Count, failed, permitted, submitTime, toFeeds, toLedger, latencies, cpu, broker,
            [.. errors], sampler.Series, loadBefore, ProcessStats.MachineLoad());
    }

    private readonly ConcurrentDictionary<BenchPackage, Guid> ids = new();

    private Guid Guid(BenchPackage package) => ids[package];

    private async Task SubmitAsync(BenchPackage package, AuthenticationHeaderValue token, long due)
    {
        try
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, "/api/v1/packages")
            {
                Content = new ByteArrayContent(package.Body) { Headers = { ContentType = new("application/json") } },
            };
            request.Headers.Authorization = token;
            using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
            if (response.StatusCode != HttpStatusCode.Accepted)
            {
                var body = await response.Content.ReadAsStringAsync();
                Fail($"{package.Reference}: {(int)response.StatusCode} {body[..Math.Min(body.Length, 300)]}");
                return;
            }
            Guid? answered = null;
            await JsonPick.ReadAsync(await response.Content.ReadAsStreamAsync(), IdField, (int _, ref Utf8JsonReader value) =>
            {
                answered = value.CurrentDepth == 1 ? value.GetGuid() : null;
                return answered is null;
            });
            if (answered is not { } id)
            {
                Fail($"{package.Reference}: 202 without an id");
                return;
            }
            submittedAt[id] = due;
            ids[package] = id;
            accepted[id] = package;
            // Every package's entries: its submission, one decision per recipient, and per permitted copy its release and its
            // delivery (a pull partner's consultation of it, one entry per item read; or the push's webhook-delivered entry).
            Interlocked.Add(ref expectedEntries, 1 + package.Recipients + 2 * package.Permitted.Length);
            foreach (var partner in package.Permitted)
            {
                stack.Arrivals.Expect(id, partner, tally);
            }
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException or IOException or JsonException)
        {
            Fail($"{package.Reference}: {e.GetType().Name} {e.Message}");
        }
    }

    private void Fail(string error)
    {
        Interlocked.Increment(ref failed);
        if (errors.Count < 10)
        {
            errors.Enqueue(error);
        }
    }

    /// <summary>A partner reading its feed: at once again after a full page, every 20 ms while there is nothing new.</summary>
    private async Task PollAsync(string partner, CancellationToken stop)
    {
        var token = stack.Token(partner, $"{partner}-bench-reader", "Feed.Read");
        var items = new List<Guid>(500);
        while (!stop.IsCancellationRequested)
        {
            var after = Cursors.GetValueOrDefault(partner, "0");
            var full = false;
            try
            {
                using var request = new HttpRequestMessage(HttpMethod.Get, $"/api/v1/feed?after={after}&limit=500");
                request.Headers.Authorization = token;
                using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, stop);
                if (response.IsSuccessStatusCode)
                {
                    // {"items": [{"cursor", "packageId", "kind", "sealed", "releasedAt"}, …], "next": "…"}: the ids and the
                    // cursor are read; the sealed copies are stepped over (each held only while it streams past).
                    items.Clear();
                    string? next = null;
                    await JsonPick.ReadAsync(await response.Content.ReadAsStreamAsync(stop), FeedFields,
                        (int field, ref Utf8JsonReader value) =>
                        {
                            if (field == 0 && value.CurrentDepth == 3)
                            {
                                items.Add(value.GetGuid());
                            }
                            else if (field == 1 && value.CurrentDepth == 1)
                            {
                                next = value.GetString();
                            }
                            return true;
                        }, stop);
                    // Read once the whole page is in, as a partner would have it.
                    var now = Stopwatch.GetTimestamp();
                    foreach (var id in items)
                    {
                        stack.Arrivals.Seen(id, partner, now);
                    }
                    if (next is not null)
                    {
                        Cursors[partner] = next;
                    }
                    full = items.Count == 500;
                }
                else if (errors.Count < 10)
                {
                    errors.Enqueue($"feed of {partner}: {(int)response.StatusCode}");
                }
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e) when (e is HttpRequestException or IOException or JsonException)
            {
                // The page's body is streamed: a broken connection or a cut page surfaces while reading it.
                errors.Enqueue($"feed of {partner}: {e.GetType().Name} {e.Message}");
            }
            if (!full)
            {
                try
                {
                    await Task.Delay(FeedPoll, stop);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        }
    }

    /// <summary>The broker's counters once they have stopped moving (the node refreshes them every second).</summary>
    private async Task<IReadOnlyDictionary<string, long>> SettledBrokerStatsAsync()
    {
        var last = await stack.Broker.MessageStatsAsync(stack.Vhost.Name);
        for (var i = 0; i < 20; i++)
        {
            await Task.Delay(1500);
            var now = await stack.Broker.MessageStatsAsync(stack.Vhost.Name);
            if (now.GetValueOrDefault("publish") == last.GetValueOrDefault("publish")
                && now.GetValueOrDefault("deliver_get") == last.GetValueOrDefault("deliver_get"))
            {
                return now;
            }
            last = now;
        }
        return last;
    }
}
