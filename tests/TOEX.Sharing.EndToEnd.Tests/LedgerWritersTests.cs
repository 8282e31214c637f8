using System.Collections.Concurrent;
using MassTransit;
using TOEX.Sharing.Cli.Tests;
using TOEX.Sharing.Contracts;
using TOEX.Sharing.Sealing;
using TOEX.Sharing.Testing;
using Xunit.Abstractions;

namespace TOEX.Sharing.EndToEnd.Tests;

/// <summary>
/// One writer, no gaps: two audit worker processes on one store (SQLite file or PostgreSQL database) and one broker
/// compete for the same queues and append at the same time. The ledger still has one order (indexes from 0 without
/// a gap), each event once (redelivered copies included), and verifies offline as one tree.
/// </summary>
public sealed class LedgerWritersTests(RabbitMqFixture broker, ITestOutputHelper output) : IClassFixture<RabbitMqFixture>
{
    private const int Events = 400;
    private const int Duplicates = 100;
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(90);

    [Theory]
    [InlineData(StoreKind.Sqlite)]
    [InlineData(StoreKind.PostgreSql)]
    public async Task Two_audit_workers_on_one_store_append_every_event_once_in_one_order(StoreKind kind)
    {
        var root = Directory.CreateTempSubdirectory("toex-writers-").FullName;
        using var store = TestStore.Create(kind, root, "audit");
        var environment = new Dictionary<string, string?>
        {
            ["DOTNET_ENVIRONMENT"] = "Development",
            ["ASPNETCORE_ENVIRONMENT"] = "Development",
            ["RabbitMq__Url"] = (await broker.Broker.ServiceUriAsync(broker.VirtualHost, "audit")).ToString(),
            ["Authentication__DevIssuer__Directory"] = Path.Combine(root, "dev-issuer"),
            ["Audit__Database"] = store.Database,
            ["Audit__ConnectionString"] = store.ConnectionString,
            ["Audit__KeyRingPath"] = Path.Combine(root, "keys", "audit"),
            ["Audit__PublicJwksPath"] = Path.Combine(root, "audit.jwks.json"),
            ["Audit__BlindIndexKeyPath"] = Path.Combine(root, "keys", "blind-index.key"),
            ["Audit__DecisionJwksPath"] = Path.Combine(root, "policy-decision.jwks.json"),
            ["Audit__Custodians__0"] = "rocu-wm",
        };
        var urls = new List<Uri>();
        var workers = new List<ChildProcess>();
        var confirmed = new ConcurrentDictionary<Guid, int>();
        var confirmations = 0;
        var notOne = 0;
        var bus = Bus.Factory.CreateUsingRabbitMq(cfg =>
        {
            cfg.Host(broker.VirtualHost.Host, (ushort)broker.VirtualHost.Port, broker.VirtualHost.Name, h =>
            {
                h.Username(broker.VirtualHost.Username);
                h.Password(broker.VirtualHost.Password);
            });
            cfg.ReceiveEndpoint($"writers-test-confirmations-{kind}".ToLowerInvariant(), e => e.Handler<AuditRecorded>(context =>
            {
                // One confirmation per delivery recorded, from the consumer that recorded it, naming its event alone.
                Interlocked.Increment(ref confirmations);
                if (context.Message.EventIds.Count != 1)
                {
                    Interlocked.Increment(ref notOne);
                }
                foreach (var id in context.Message.EventIds)
                {
                    confirmed.AddOrUpdate(id, 1, (_, n) => n + 1);
                }
                return Task.CompletedTask;
            }));
        });
        await bus.StartAsync();
        try
        {
            // Started one after the other (the first creates the key ring), then both consume at once.
            for (var i = 0; i < 2; i++)
            {
                var url = new Uri($"http://127.0.0.1:{FreePort.Next()}");
                var worker = ChildProcess.StartDotnet(ChildProcess.BuiltServicePath("TOEX.Sharing.Audit"),
                    new Dictionary<string, string?>(environment) { ["ASPNETCORE_URLS"] = url.ToString() }, name: $"audit-{i}", workingDirectory: root);
                workers.Add(worker);
                urls.Add(url);
                await worker.WaitForHttpAsync(new Uri(url, "/health"), StartTimeout);
            }

            var ids = Enumerable.Range(0, Events).Select(_ => NewId.NextGuid()).ToList();
            // An event of the gateway's outbox (the ledger confirms only those).
            var events = ids.Select((id, n) => (Id: id, Message: Rejected(n))).ToList();
            await Task.WhenAll(events.Select(e => bus.Publish(e.Message, c => c.MessageId = e.Id)));
            // The same events again, as a broker redelivers them or a publisher repeats them after a crash.
            await Task.WhenAll(events.Take(Duplicates).Select(e => bus.Publish(e.Message, c => c.MessageId = e.Id)));

            await Eventually(() => confirmed.Values.Sum() >= Events + Duplicates, "a confirmation of every delivery", workers);

            Assert.Equal(ids.Order(), confirmed.Keys.Order());
            Assert.Equal(Events, await store.ScalarAsync("""SELECT COUNT(*) FROM "Entries" """));
            Assert.Equal(Events, await store.ScalarAsync("""SELECT COUNT(DISTINCT "EventKey") FROM "Entries" """));
            Assert.Equal(Events - 1, await store.ScalarAsync("""SELECT MAX("Index") FROM "Entries" """));

            // Both instances answer with the same tree, and it verifies offline: hashes, chain of indexes, signed root.
            using var issuer = DevIssuer.OpenOrCreate(Path.Combine(root, "dev-issuer"), TimeProvider.System);
            var token = issuer.CreateToken("rocu-wm", ["Audit.Read"], "ig-officer-1", TimeSpan.FromMinutes(10));
            var heads = new List<string>();
            foreach (var url in urls)
            {
                using var auditor = new HttpClient { BaseAddress = url };
                auditor.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", token);
                var head = System.Text.Json.Nodes.JsonNode.Parse(await auditor.GetStringAsync("/api/v1/audit/tree-head"))!;
                heads.Add($"{head["treeSize"]} {head["rootHash"]}");
            }
            Assert.Single(heads.Distinct());
            using var exporter = new HttpClient { BaseAddress = urls[1] };
            exporter.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", token);
            var bundle = Path.Combine(root, "bundle.json");
            await File.WriteAllTextAsync(bundle, await exporter.GetStringAsync("/api/v1/audit/export"));
            var jwks = Path.Combine(root, "audit.jwks.json");
            await File.WriteAllTextAsync(jwks, await exporter.GetStringAsync("/.well-known/jwks.json"));
            var verified = await Toex.RunAsync(["audit", "verify", "--bundle", bundle, "--jwks", jwks]);
            Assert.True(verified.ExitCode == 0, verified.ToString());
            Assert.Contains($"Verified {Events} entries", verified.Output, StringComparison.Ordinal);
            // Each consumer confirms its own event (a group commit's one confirmation made its members wait on one publish,
            // which broker kills turned into endpoints that never consumed again): every delivery confirmed, each alone.
            Assert.Equal(0, notOne);
            Assert.True(confirmations >= Events + Duplicates, $"{confirmations} confirmations for {Events + Duplicates} deliveries");
            output.WriteLine($"{kind}: {Events} events and {Duplicates} repeats through two workers: {Events} entries, one tree; "
                + $"{confirmations} confirmation messages for {Events + Duplicates} deliveries");
        }
        finally
        {
            await bus.StopAsync();
            foreach (var worker in workers)
            {
                await worker.DisposeAsync();
            }
            try
            {
                Directory.Delete(root, recursive: true);
            }
            catch (IOException)
            {
                // Left for the OS to clean.
            }
        }
    }

    private static DecisionRejected Rejected(int n) => new()
    {
        PackageId = NewId.NextGuid(),
        Why = $"the decision is for other content ({n})",
        RejectedAt = DateTimeOffset.Parse("2026-11-25T12:00:00Z", System.Globalization.CultureInfo.InvariantCulture).AddSeconds(n),
    };

    /// <summary>Polls <paramref name="condition"/> until it holds, or fails with the workers' recent output.</summary>
    private static Task Eventually(Func<bool> condition, string what, IEnumerable<ChildProcess> workers) =>
        Testing.Eventually.UntilAsync(() => Task.FromResult(condition()), TimeSpan.FromMinutes(3),
            () => $"Timed out waiting for {what}.\n" + string.Join("\n", workers.Select(w => w.FormatRecentOutput(40))));
}
