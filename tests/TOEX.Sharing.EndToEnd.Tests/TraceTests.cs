using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using TOEX.Sharing.Testing;

namespace TOEX.Sharing.EndToEnd.Tests;

/// <summary>
/// The three services exporting their spans by OTLP/HTTP to a receiver in the test; the push partners of the samples
/// (wmp, staffs, bcc-childrens) have webhook receivers on loopback, nca reads its feed.
/// </summary>
public sealed class TracedServices : RunningServices
{
    public OtlpReceiver Receiver { get; private set; } = null!;
    public Dictionary<string, WebhookReceiver> Pushes { get; } = [];

    protected override IReadOnlyDictionary<string, string?> ExtraEnvironment => Receiver.ExporterEnvironment;

    public override async Task InitializeAsync()
    {
        Receiver = await OtlpReceiver.StartAsync();
        Directory.CreateDirectory(PartnerKeysDirectory);
        foreach (var partner in new[] { "wmp", "staffs", "bcc-childrens" })
        {
            Pushes[partner] = await WebhookReceiver.StartAsync();
            await File.WriteAllTextAsync(Path.Combine(PartnerKeysDirectory, partner + ".webhook.json"),
                new JsonObject { ["endpoint"] = Pushes[partner].Url.ToString(), ["localDevelopment"] = true }.ToJsonString());
        }
        await base.InitializeAsync();
    }

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        if (Receiver is not null)
        {
            await Receiver.DisposeAsync();
        }
        foreach (var receiver in Pushes.Values)
        {
            await receiver.DisposeAsync();
        }
    }
}

/// <summary>
/// One trace per package: the HTTP request, the decision, the release (and sealing), the push to the partner and every
/// ledger entry it causes, across the gateway, PolicyDecision and the audit worker as separate processes, joined through
/// the broker's messages, the gateway's outbox and its webhook queue.
/// </summary>
public sealed class TraceTests(TracedServices stack) : IClassFixture<TracedServices>
{
    private const string Gateway = "TOEX.Sharing.Gateway";
    private const string PolicyDecision = "TOEX.Sharing.PolicyDecision";
    private const string Audit = "TOEX.Sharing.Audit";

    [Fact]
    public async Task A_package_makes_one_trace_from_the_request_through_decision_release_and_ledger_across_all_three_services()
    {
        // Two packages: rocuwm-2026-000124 (wmp, staffs, nca all permitted: pushed to wmp and staffs, nca reads its feed)
        // and -000123 (bcc-childrens permitted and pushed, wmp denied).
        var first = await SubmitAsync("rocuwm-2026-000124.json");
        var second = await SubmitAsync("rocuwm-2026-000123.json");

        var trace = await CompleteTraceAsync(first, releases: 3, decisions: 3, pushes: 2);
        var other = await CompleteTraceAsync(second, releases: 1, decisions: 2, pushes: 1);

        // Each package is its own trace: nothing of one is in the other.
        Assert.NotEqual(trace.Root.TraceId, other.Root.TraceId);
        Assert.DoesNotContain(trace.Spans, s => s.Attributes.GetValueOrDefault("toex.package_id") == second.ToString());
        Assert.DoesNotContain(other.Spans, s => s.Attributes.GetValueOrDefault("toex.package_id") == first.ToString());
    }

    private async Task<Guid> SubmitAsync(string sample)
    {
        using var client = stack.Client(stack.Gateway, "rocu-wm", "Packages.Submit");
        var json = await File.ReadAllTextAsync(Path.Combine(RepoPaths.Root, "deploy", "samples", sample));
        using var response = await client.PostAsync("/api/v1/packages", new StringContent(json, Encoding.UTF8, "application/json"));
        Assert.True(response.StatusCode == HttpStatusCode.Accepted, $"{sample}: {response.StatusCode} {await response.Content.ReadAsStringAsync()}");
        return Guid.Parse((string)(await response.Content.ReadFromJsonAsync<JsonObject>())!["id"]!);
    }

    private sealed record Trace(ReceivedSpan Root, IReadOnlyList<ReceivedSpan> Spans);

    /// <summary>
    /// Waits until the trace of <paramref name="package"/> holds what one package must cause, then checks it is whole:
    /// one trace id, one root (the gateway's HTTP request), every other span's parent in the trace, spans of all three services.
    /// </summary>
    private async Task<Trace> CompleteTraceAsync(Guid package, int releases, int decisions, int pushes)
    {
        var id = package.ToString();
        Trace? found = null;
        string Missing(IReadOnlyList<ReceivedSpan> all)
        {
            var root = all.SingleOrDefault(s => s.Service == Gateway && s.Kind == 2 && s.Attributes.GetValueOrDefault("toex.package_id") == id);
            if (root is null)
            {
                return "the gateway's server span for POST /api/v1/packages, tagged with the package id";
            }
            var spans = all.Where(s => s.TraceId == root.TraceId).ToList();
            found = new Trace(root, spans);
            var ours = spans.Where(s => s.Attributes.GetValueOrDefault("toex.package_id") == id).ToList();
            var expected = new (string Service, string Name, string? EntryType, int Count)[]
            {
                (PolicyDecision, "policy.decide", null, 1),
                (Gateway, "gateway.release", null, 1),
                (Gateway, "gateway.seal", null, releases),
                (Gateway, "gateway.outbox.publish", null, releases),
                (Audit, "audit.append", "submission", 1),
                (Audit, "audit.append", "decision", 1),
                (Audit, "audit.append", "release", releases),
                (Gateway, "gateway.webhook", null, pushes),
                (Audit, "audit.append", "webhook-delivered", pushes),
            };
            foreach (var (service, name, entryType, count) in expected)
            {
                var have = spans.Count(s => s.Service == service && s.Name == name
                    && (entryType is null || s.Attributes.GetValueOrDefault("toex.ledger.entry_type") == entryType)
                    && (name is "gateway.seal" or "gateway.outbox.publish" || ours.Contains(s)));
                if (have < count)
                {
                    return $"{count} {service} {name} {entryType} span(s) in trace {root.TraceId} (have {have})";
                }
            }
            var ids = spans.Select(s => s.SpanId).ToHashSet();
            var orphan = spans.FirstOrDefault(s => s != root && (s.ParentSpanId is null || !ids.Contains(s.ParentSpanId)));
            return orphan is null ? "" : $"the parent of {orphan}";
        }

        // Looked at again each time the services export more spans.
        var missing = "";
        await Eventually.UntilAsync(() => Task.FromResult((missing = Missing(stack.Receiver.Spans)).Length == 0), TimeSpan.FromSeconds(60),
            () => $"Trace of package {package} incomplete: waiting for {missing}.\n"
                + string.Join("\n", (found?.Spans ?? stack.Receiver.Spans).Select(s => s.ToString())),
            stack.Receiver.NextExportAsync);

        var trace = found!;
        // Nothing done for this package anywhere started a trace of its own.
        Assert.All(stack.Receiver.Spans.Where(s => s.Attributes.GetValueOrDefault("toex.package_id") == id),
            s => Assert.True(s.TraceId == trace.Root.TraceId, $"{s} is outside the package's trace {trace.Root.TraceId}"));
        Assert.Null(trace.Root.ParentSpanId);
        Assert.Equal("POST", trace.Root.Attributes.GetValueOrDefault("http.request.method"));
        Assert.Equal([Audit, Gateway, PolicyDecision], trace.Spans.Select(s => s.Service).Distinct().Order(StringComparer.Ordinal));
        // A pushed copy: the webhook call to the partner (HttpClient's span under the attempt) is in the package's trace.
        var dump = string.Join("\n", trace.Spans.Select(s => $"{s} {string.Join(", ", s.Attributes.Select(a => $"{a.Key}={a.Value}"))}"));
        Assert.True(pushes == trace.Spans.Count(s => s.Name == "gateway.webhook" && s.Attributes.GetValueOrDefault("toex.webhook.delivered") == "true"),
            $"{pushes} delivered push(es) expected in:\n{dump}");
        Assert.True(pushes == trace.Spans.Count(s => s.Service == Gateway && s.Kind == 3 && s.Attributes.GetValueOrDefault("http.request.method") == "POST"),
            $"{pushes} webhook call(s) expected in:\n{dump}");
        Assert.Single(trace.Spans, s => s.ParentSpanId is null);
        // The decision was taken in this trace, and its ledger entries are in it too.
        Assert.Single(trace.Spans, s => s.Name == "policy.decide");
        Assert.Contains(trace.Spans, s => s.Service == Audit && s.Name == "audit.append"
            && s.Attributes.GetValueOrDefault("toex.ledger.entry_type") == "decision"
            && s.Attributes.GetValueOrDefault("toex.ledger.appended") == decisions.ToString(System.Globalization.CultureInfo.InvariantCulture));
        return trace;
    }
}
