using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using TOEX.Sharing.Cli.Tests;
using TOEX.Sharing.Sealing;
using TOEX.Sharing.Testing;
using Xunit.Abstractions;

namespace TOEX.Sharing.EndToEnd.Tests;

/// <summary>
/// Scaled out on one PostgreSQL server and one broker: two gateways, two PolicyDecisions, and the audit worker as an
/// active writer and a standby (<c>Audit:SingleActiveConsumer</c>). Packages are submitted to both gateways; one gateway
/// is killed (SIGKILL) mid-run, and its callers retry at the other, as a load balancer's would; the active audit worker is
/// killed too and the standby takes over. Every package is then decided once, released once to each recipient, pushed
/// once to each push partner (one <c>webhook-id</c>), on the pull partner's feed once, and in one gapless ledger.
/// </summary>
public sealed class ScaleOutTests(RabbitMqFixture broker, ITestOutputHelper output) : IClassFixture<RabbitMqFixture>, IAsyncLifetime
{
    private const int Packages = 200;
    private const int Parallel = 8;
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(120);

    // rocuwm-2026-000124: wmp, staffs and nca all permitted; wmp and staffs by push, nca from its feed.
    private static readonly string[] PushPartners = ["wmp", "staffs"];
    private const string PullPartner = "nca";

    private readonly string _root = Directory.CreateTempSubdirectory("toex-scale-").FullName;
    private readonly List<ChildProcess> _processes = [];
    private readonly Dictionary<string, WebhookReceiver> _receivers = [];
    private TestStore _gatewayStore = null!;
    private TestStore _auditStore = null!;

    public async Task InitializeAsync()
    {
        _gatewayStore = TestStore.Create(StoreKind.PostgreSql, _root, "scale_gateway");
        _auditStore = TestStore.Create(StoreKind.PostgreSql, _root, "scale_audit");
        foreach (var partner in RunningServices.Partners)
        {
            KeyFiles.Generate(Path.Combine(_root, "partners"), partner == "nca" ? KeyKind.Rsa : KeyKind.EC, KeyUse.Encryption, partner);
        }
        foreach (var partner in PushPartners)
        {
            _receivers[partner] = await WebhookReceiver.StartAsync();
            await File.WriteAllTextAsync(Path.Combine(_root, "partners", partner + ".webhook.json"),
                new JsonObject { ["endpoint"] = _receivers[partner].Url.ToString(), ["localDevelopment"] = true }.ToJsonString());
        }
    }

    private Dictionary<string, string?> Common() => new()
    {
        ["DOTNET_ENVIRONMENT"] = "Development",
        ["ASPNETCORE_ENVIRONMENT"] = "Development",
        ["Authentication__DevIssuer__Directory"] = Path.Combine(_root, "dev-issuer"),
        ["Clock__StartsAt"] = RunningServices.StartsAt,
        ["Gateway__BlindIndexKeyPath"] = Path.Combine(_root, "keys", "blind-index.key"),
        ["Audit__BlindIndexKeyPath"] = Path.Combine(_root, "keys", "blind-index.key"),
        ["Logging__LogLevel__Microsoft.AspNetCore"] = "Warning",
        ["Logging__LogLevel__Microsoft.EntityFrameworkCore"] = "Warning",
    };

    /// <summary>Starts a service process (an instance of its own, on a port of its own) and waits until it is ready.</summary>
    private async Task<(ChildProcess Process, Uri Url)> StartAsync(string project, string name, Dictionary<string, string?> settings)
    {
        var url = new Uri($"http://127.0.0.1:{FreePort.Next()}");
        var environment = Common();
        foreach (var (key, value) in settings)
        {
            environment[key] = value;
        }
        environment["ASPNETCORE_URLS"] = url.ToString();
        var process = ChildProcess.StartDotnet(ChildProcess.BuiltServicePath(project), environment, name: name, workingDirectory: _root);
        _processes.Add(process);
        try
        {
            await process.WaitForHttpAsync(new Uri(url, "/health"), StartTimeout);
        }
        catch (Exception e)
        {
            throw new InvalidOperationException($"{name} did not start: {e.Message}\n{process.FormatRecentOutput(60)}", e);
        }
        return (process, url);
    }

    private async Task<Dictionary<string, string?>> ServiceSettingsAsync(string service) => service switch
    {
        "policy-decision" => new()
        {
            ["RabbitMq__Url"] = (await broker.Broker.ServiceUriAsync(broker.VirtualHost, service)).ToString(),
            ["PolicyDecision__PoliciesPath"] = RepoPaths.Policies,
            ["PolicyDecision__KeyRingPath"] = Path.Combine(_root, "keys", "policy-decision"),
            ["PolicyDecision__PublicJwksPath"] = Path.Combine(_root, "policy-decision.jwks.json"),
        },
        "audit" => new()
        {
            ["RabbitMq__Url"] = (await broker.Broker.ServiceUriAsync(broker.VirtualHost, service)).ToString(),
            ["Audit__Database"] = _auditStore.Database,
            ["Audit__ConnectionString"] = _auditStore.ConnectionString,
            ["Audit__KeyRingPath"] = Path.Combine(_root, "keys", "audit"),
            ["Audit__DecisionJwksPath"] = Path.Combine(_root, "policy-decision.jwks.json"),
            ["Audit__Custodians__0"] = "rocu-wm",
            ["Audit__SingleActiveConsumer"] = "true",
        },
        _ => new()
        {
            ["RabbitMq__Url"] = (await broker.Broker.ServiceUriAsync(broker.VirtualHost, service)).ToString(),
            ["Gateway__Database"] = _gatewayStore.Database,
            ["Gateway__ConnectionString"] = _gatewayStore.ConnectionString,
            ["Gateway__KeyRingPath"] = Path.Combine(_root, "keys", "broker"),
            ["Gateway__PartnerKeysPath"] = Path.Combine(_root, "partners"),
            ["Gateway__DecisionJwksPath"] = Path.Combine(_root, "policy-decision.jwks.json"),
            ["Gateway__PoliciesPath"] = RepoPaths.Policies,
            ["Gateway__Webhooks__KeyPath"] = Path.Combine(_root, "keys", "webhook"),
            ["Gateway__Webhooks__FirstRetryDelay"] = "00:00:00.500",
            ["Gateway__Webhooks__MaxRetryDelay"] = "00:00:02",
            ["Gateway__Webhooks__AttemptTimeout"] = "00:00:02",
        },
    };

    private HttpClient Client(Uri service, string organisation, params string[] roles)
    {
        using var issuer = DevIssuer.OpenOrCreate(Path.Combine(_root, "dev-issuer"), TimeProvider.System);
        var client = new HttpClient { BaseAddress = service, Timeout = TimeSpan.FromSeconds(30) };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer",
            issuer.CreateToken(organisation, roles, $"{organisation}-scale", TimeSpan.FromMinutes(30)));
        return client;
    }

    private Task<long> CountAsync(string where) => _auditStore.ScalarAsync($"""SELECT COUNT(*) FROM "Entries" WHERE {where}""");

    /// <summary>Fails if any (package, partner) of <paramref name="type"/> entries appears other than once.</summary>
    private async Task AssertOncePerRecipientAsync(string type)
    {
        Assert.Equal(0, await _auditStore.ScalarAsync(
            $"""SELECT COUNT(*) FROM (SELECT "PackageId", "Partner" FROM "Entries" WHERE "Type" = '{type}' GROUP BY "PackageId", "Partner" HAVING COUNT(*) <> 1) AS "Twice" """));
    }

    [Fact]
    public async Task Two_gateways_two_policy_decisions_and_a_standby_audit_worker_handle_every_package_once_when_a_gateway_and_the_writer_die()
    {
        var clock = Stopwatch.StartNew();
        // One after the other where a first start creates keys; then every instance runs at once.
        var decisions = new[] { await StartAsync("TOEX.Sharing.PolicyDecision", "policy-decision-1", await ServiceSettingsAsync("policy-decision")),
            await StartAsync("TOEX.Sharing.PolicyDecision", "policy-decision-2", await ServiceSettingsAsync("policy-decision")) };
        var (writer, writerUrl) = await StartAsync("TOEX.Sharing.Audit", "audit-writer", await ServiceSettingsAsync("audit"));
        var (_, standbyUrl) = await StartAsync("TOEX.Sharing.Audit", "audit-standby", await ServiceSettingsAsync("audit"));
        var (gatewayA, urlA) = await StartAsync("TOEX.Sharing.Gateway", "gateway-a", await ServiceSettingsAsync("gateway"));
        var (gatewayB, urlB) = await StartAsync("TOEX.Sharing.Gateway", "gateway-b", await ServiceSettingsAsync("gateway"));
        output.WriteLine($"2 PolicyDecisions ({string.Join(", ", decisions.Select(d => d.Url.Port))}), audit writer and standby, 2 gateways up at {clock.Elapsed.TotalSeconds:0.0} s");

        // Submit: odd packages to gateway A, even to B; after 40% gateway B is killed, then the audit writer; a
        // submission B did not answer is sent again to A (the same reference and content: the same submission).
        var template = await File.ReadAllTextAsync(Path.Combine(RepoPaths.Root, "deploy", "samples", "rocuwm-2026-000124.json"));
        using var submitterA = Client(urlA, "rocu-wm", "Packages.Submit");
        using var submitterB = Client(urlB, "rocu-wm", "Packages.Submit");
        var ids = new ConcurrentDictionary<int, Guid>();
        var retriedAtA = 0;
        var submitted = 0;
        var killed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var killer = Task.Run(async () =>
        {
            await Eventually.UntilAsync(() => Task.FromResult(Volatile.Read(ref submitted) >= Packages * 2 / 5), TimeSpan.FromMinutes(3),
                () => "40% of the packages submitted");
            await gatewayB.DisposeAsync();
            killed.SetResult();
            output.WriteLine($"gateway B killed after {Volatile.Read(ref submitted)} submissions at {clock.Elapsed.TotalSeconds:0.0} s");
            await Eventually.UntilAsync(() => Task.FromResult(Volatile.Read(ref submitted) >= Packages * 3 / 5), TimeSpan.FromMinutes(3),
                () => "60% of the packages submitted");
            await writer.DisposeAsync();
            output.WriteLine($"audit writer killed after {Volatile.Read(ref submitted)} submissions at {clock.Elapsed.TotalSeconds:0.0} s");
        });
        await System.Threading.Tasks.Parallel.ForEachAsync(Enumerable.Range(1, Packages), new ParallelOptions { MaxDegreeOfParallelism = Parallel }, async (n, ct) =>
        {
            var package = JsonNode.Parse(template)!.AsObject();
            package["reference"] = $"ROCUWM-2026-8{n:D5}";
            async Task<HttpResponseMessage> Post(HttpClient client) =>
                await client.PostAsync("/api/v1/packages", new StringContent(package.ToJsonString(), Encoding.UTF8, "application/json"), ct);
            HttpResponseMessage response;
            if (n % 2 == 0 && !killed.Task.IsCompleted)
            {
                try
                {
                    response = await Post(submitterB);
                }
                catch (HttpRequestException)
                {
                    Interlocked.Increment(ref retriedAtA);
                    response = await Post(submitterA);
                }
            }
            else
            {
                response = await Post(submitterA);
            }
            using (response)
            {
                Assert.True(response.StatusCode == HttpStatusCode.Accepted, $"package {n}: {response.StatusCode} {await response.Content.ReadAsStringAsync(ct)}");
                ids[n] = Guid.Parse((string)(await response.Content.ReadFromJsonAsync<JsonObject>(ct))!["id"]!);
            }
            Interlocked.Increment(ref submitted);
        });
        await killer;
        output.WriteLine($"{Packages} submitted ({retriedAtA} retried at gateway A) at {clock.Elapsed.TotalSeconds:0.0} s");

        // Every package decided (3 recipients), released (3 copies), pushed to wmp and staffs, all in the ledger, which
        // only the standby can still be writing.
        var processes = _processes;
        await Eventually.UntilAsync(async () =>
                await CountAsync("\"Type\" = 'submission'") == Packages && await CountAsync("\"Type\" = 'decision'") == 3 * Packages
                && await CountAsync("\"Type\" = 'release'") == 3 * Packages && await CountAsync("\"Type\" = 'webhook-delivered'") == 2 * Packages,
            TimeSpan.FromMinutes(4),
            () => $"every submission, decision, release and push in the ledger\n{string.Join("\n", processes.Select(p => p.FormatRecentOutput(30)))}");
        output.WriteLine($"ledger complete at {clock.Elapsed.TotalSeconds:0.0} s");

        // nca reads its whole feed from the surviving gateway: each package once.
        using var nca = Client(urlA, PullPartner, "Feed.Read");
        var feed = new List<Guid>();
        for (var cursor = "0"; ;)
        {
            var page = (await nca.GetFromJsonAsync<JsonObject>($"/api/v1/feed?after={cursor}&limit=500"))!;
            var items = page["items"]!.AsArray();
            if (items.Count == 0)
            {
                break;
            }
            feed.AddRange(items.Select(i => Guid.Parse((string)i!["packageId"]!)));
            cursor = (string)page["next"]!;
        }

        // Decided, released and pushed once; one webhook-id per push (a push retried after the kill keeps its id).
        Assert.Equal(Packages, ids.Values.Distinct().Count());
        Assert.Equal(ids.Values.Order(), feed.Order());
        foreach (var type in new[] { "decision", "release", "webhook-delivered" })
        {
            await AssertOncePerRecipientAsync(type);
        }
        Assert.Equal(0, await _auditStore.ScalarAsync("""SELECT COUNT(*) - COUNT(DISTINCT "PackageId") FROM "Entries" WHERE "Type" = 'submission'"""));
        foreach (var partner in PushPartners)
        {
            var byPackage = _receivers[partner].Requests
                .GroupBy(r => (string)JsonNode.Parse(r.Body)!["data"]!["packageId"]!)
                .ToDictionary(g => Guid.Parse(g.Key), g => g.Select(r => r.Id).Distinct().ToList());
            Assert.Equal(ids.Values.Order(), byPackage.Keys.Order());
            Assert.All(byPackage, p => Assert.Single(p.Value));
        }

        // One gapless ledger, each event once, which the standby (the only worker left) serves and which verifies offline.
        Assert.Equal(0, await _auditStore.ScalarAsync("""SELECT COUNT(*) - COUNT(DISTINCT "EventKey") FROM "Entries" """));
        Assert.Equal(0, await _auditStore.ScalarAsync("""SELECT MAX("Index") + 1 - COUNT(*) FROM "Entries" """));
        // The killed ones are gone: whatever was done after their deaths was done by the survivors.
        using var probe = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        foreach (var dead in new[] { writerUrl, urlB })
        {
            await Assert.ThrowsAsync<HttpRequestException>(() => probe.GetAsync(new Uri(dead, "/alive")));
        }
        using var auditor = Client(standbyUrl, "rocu-wm", "Audit.Read");
        var bundle = Path.Combine(_root, "bundle.json");
        await File.WriteAllTextAsync(bundle, await auditor.GetStringAsync("/api/v1/audit/export"));
        var jwks = Path.Combine(_root, "audit.jwks.json");
        await File.WriteAllTextAsync(jwks, await auditor.GetStringAsync("/.well-known/jwks.json"));
        var verified = await Toex.RunAsync(["audit", "verify", "--bundle", bundle, "--jwks", jwks]);
        Assert.True(verified.ExitCode == 0, verified.ToString());
        output.WriteLine($"{Packages} packages, {await _auditStore.ScalarAsync("""SELECT COUNT(*) FROM "Entries" """)} ledger entries verified; "
            + $"writer was {writerUrl.Port}, standby {standbyUrl.Port}; total {clock.Elapsed.TotalSeconds.ToString("0.0", CultureInfo.InvariantCulture)} s");
    }

    public async Task DisposeAsync()
    {
        foreach (var process in _processes)
        {
            await process.DisposeAsync();
        }
        foreach (var receiver in _receivers.Values)
        {
            await receiver.DisposeAsync();
        }
        _gatewayStore?.Dispose();
        _auditStore?.Dispose();
        try
        {
            Directory.Delete(_root, recursive: true);
        }
        catch (IOException)
        {
            // Left for the OS to clean.
        }
    }
}
