using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using TOEX.Sharing.Cli.Tests;
using TOEX.Sharing.Ledger;
using TOEX.Sharing.Testing;
using Xunit.Abstractions;

namespace TOEX.Sharing.EndToEnd.Tests;

/// <summary>
/// A thousand packages through the three services on a real broker, the audit worker killed midway (while it is
/// appending) and started again: the ledger ends with exactly one entry per event, the tree after the restart is
/// provably the tree before it grown (consistency proof), the export verifies offline, and the reconciliation finds
/// every release in the ledger, until one entry is deleted from the store.
/// </summary>
public sealed class ThousandPackagesTests(RunningServices stack, ITestOutputHelper output) : IClassFixture<RunningServices>
{
    private const int Packages = 1000;
    private const int Parallel = 8;

    private async Task<long> CountAsync(string where) =>
        await stack.AuditStore.ScalarAsync($"""SELECT COUNT(*) FROM "Entries" WHERE {where}""");

    private static async Task SubmitAsync(HttpClient client, string template, IEnumerable<int> numbers, List<Guid> ids)
    {
        await System.Threading.Tasks.Parallel.ForEachAsync(numbers, new ParallelOptions { MaxDegreeOfParallelism = Parallel }, async (n, ct) =>
        {
            var package = JsonNode.Parse(template)!.AsObject();
            package["reference"] = $"ROCUWM-2026-7{n:D5}";
            using var response = await client.PostAsync("/api/v1/packages", new StringContent(package.ToJsonString(), Encoding.UTF8, "application/json"), ct);
            Assert.True(response.StatusCode == HttpStatusCode.Accepted, $"package {n}: {response.StatusCode} {await response.Content.ReadAsStringAsync(ct)}");
            var id = Guid.Parse((string)(await response.Content.ReadFromJsonAsync<JsonObject>(ct))!["id"]!);
            lock (ids)
            {
                ids.Add(id);
            }
        });
    }

    private static async Task<TreeHeadDocument> TreeHeadAsync(HttpClient auditor) =>
        (await auditor.GetFromJsonAsync<TreeHeadDocument>("/api/v1/audit/tree-head"))!;

    [Fact]
    public async Task A_thousand_packages_with_the_audit_worker_killed_midway_leave_one_entry_per_event_and_a_consistent_tree()
    {
        var clock = Stopwatch.StartNew();
        var template = await File.ReadAllTextAsync(Path.Combine(RepoPaths.Root, "deploy", "samples", "rocuwm-2026-000123.json"));
        using var submitter = stack.Client(stack.Gateway, "rocu-wm", "Packages.Submit");
        using var auditor = stack.Client(stack.Audit, "rocu-wm", "Audit.Read");
        var ids = new List<Guid>();

        // 1. Half the packages; then the audit worker is killed, mid-append, after a tree head was taken.
        await SubmitAsync(submitter, template, Enumerable.Range(1, Packages / 2), ids);
        var before = await TreeHeadAsync(auditor);
        await stack.KillAuditAsync();
        output.WriteLine($"{Packages / 2} submitted, tree head {before.TreeSize} taken, audit worker killed at {clock.Elapsed.TotalSeconds:0.0} s");

        // 2. The other half while it is down (its events wait in the broker), then it is started again.
        await SubmitAsync(submitter, template, Enumerable.Range(Packages / 2 + 1, Packages / 2), ids);
        output.WriteLine($"{Packages} submitted at {clock.Elapsed.TotalSeconds:0.0} s; restarting the audit worker");
        await stack.RestartAuditAsync();

        // 3. Every package decided (bcc-childrens permit, wmp deny) and released to bcc-childrens, all in the ledger.
        await stack.EventuallyAsync(async () =>
            await CountAsync("\"Type\" = 'release'") == Packages && await CountAsync("\"Type\" = 'decision'") == 2 * Packages
                && await CountAsync("\"Type\" = 'submission'") == Packages ? "" : null,
            "every submission, decision and release in the ledger", TimeSpan.FromMinutes(5));
        output.WriteLine($"ledger complete at {clock.Elapsed.TotalSeconds:0.0} s");

        // 4. bcc-childrens reads its feed in two pages: one consultation entry per item.
        using var partner = stack.Client(stack.Gateway, "bcc-childrens", "Feed.Read");
        var read = 0;
        for (var cursor = "0"; ;)
        {
            var page = (await partner.GetFromJsonAsync<JsonObject>($"/api/v1/feed?after={cursor}&limit=500"))!;
            var count = page["items"]!.AsArray().Count;
            if (count == 0)
            {
                break;
            }
            read += count;
            cursor = (string)page["next"]!;
        }
        Assert.Equal(Packages, read);
        await stack.EventuallyAsync(async () => await CountAsync("\"Type\" = 'consultation' AND \"PackageId\" IS NOT NULL") == Packages ? "" : null,
            "a consultation entry per feed item", TimeSpan.FromMinutes(2));

        // 5. Exactly one entry per event: no event key twice, no gap, one of each per package (and recipient).
        Assert.Equal(Packages, ids.Distinct().Count());
        // Each check one statement, so one snapshot: entries of later events (pushes retried) may still be arriving.
        Assert.Equal(0, await stack.AuditStore.ScalarAsync("""SELECT COUNT(*) - COUNT(DISTINCT "EventKey") FROM "Entries" """));
        Assert.Equal(0, await stack.AuditStore.ScalarAsync("""SELECT MAX("Index") + 1 - COUNT(*) FROM "Entries" """));
        Assert.Equal(Packages, await stack.AuditStore.ScalarAsync("""SELECT COUNT(DISTINCT "PackageId") FROM "Entries" WHERE "Type" = 'submission'"""));
        foreach (var (type, key) in new[] { ("submission", "\"PackageId\""), ("release", "\"PackageId\""), ("decision", "\"PackageId\", \"Partner\"") })
        {
            Assert.Equal(0, await stack.AuditStore.ScalarAsync(
                $"""SELECT COUNT(*) FROM (SELECT {key} FROM "Entries" WHERE "Type" = '{type}' GROUP BY {key} HAVING COUNT(*) <> 1) AS "Twice" """));
        }
        Assert.Equal(Packages, await stack.AuditStore.ScalarAsync(
            """SELECT COUNT(*) FROM "Entries" WHERE "Type" = 'decision' AND "Partner" = 'wmp' AND "Outcome" = 'deny'"""));

        // 6. The tree after the restart extends the tree before it.
        var restarted = await TreeHeadAsync(auditor);
        var proof = (await auditor.GetFromJsonAsync<ConsistencyProofDocument>(
            $"/api/v1/audit/proofs/consistency?from={before.TreeSize}&to={restarted.TreeSize}"))!;
        var consistent = MerkleVerifier.VerifyConsistency(before.TreeSize, restarted.TreeSize, Convert.FromBase64String(before.RootHash),
            Convert.FromBase64String(restarted.RootHash), [.. proof.Proof.Select(Convert.FromBase64String)]);
        Assert.True(before.TreeSize > 0 && before.TreeSize < restarted.TreeSize, $"tree sizes {before.TreeSize} then {restarted.TreeSize}");
        Assert.True(consistent.IsValid, consistent.ToString());

        // 7. The whole ledger verifies offline, and every release at the gateway has its entry.
        var bundle = Path.Combine(stack.Root, "bundle.json");
        await File.WriteAllTextAsync(bundle, await auditor.GetStringAsync("/api/v1/audit/export"));
        var jwks = Path.Combine(stack.Root, "audit.jwks.json");
        await File.WriteAllTextAsync(jwks, await auditor.GetStringAsync("/.well-known/jwks.json"));
        var verified = await Toex.RunAsync(["audit", "verify", "--bundle", bundle, "--jwks", jwks]);
        Assert.True(verified.ExitCode == 0, verified.ToString());
        var reconcile = new[] { "audit", "reconcile", "--gateway", stack.Gateway.ToString(), "--audit", stack.Audit.ToString(),
            "--token", stack.Token("rocu-wm", "ig-officer-1", "Audit.Read") };
        var reconciled = await Toex.RunAsync(reconcile);
        Assert.True(reconciled.ExitCode == 0, reconciled.ToString());
        Assert.Contains($"{Packages} release(s) at the gateway (0 recall notices), {Packages} release and recall-notice entries in the ledger, 0 release(s) without an entry",
            reconciled.Output, StringComparison.Ordinal);
        output.WriteLine($"tree {before.TreeSize} → {restarted.TreeSize} consistent; verified and reconciled at {clock.Elapsed.TotalSeconds:0.0} s");

        // 8. A release entry deleted from the store is reported, naming the package.
        var victim = ids[Packages / 3];
        await stack.AuditStore.ExecuteAsync(
            $"""DELETE FROM "Entries" WHERE "Type" = 'release' AND upper("PackageId") = '{victim.ToString().ToUpperInvariant()}'""");
        var found = await Toex.RunAsync(reconcile);
        Assert.True(found.ExitCode == 1, found.ToString());
        Assert.Contains($"release without a ledger entry: package {victim} to bcc-childrens", found.Error, StringComparison.Ordinal);
        Assert.Contains("1 release(s) without an entry", found.Output, StringComparison.Ordinal);
        output.WriteLine($"total {clock.Elapsed.TotalSeconds:0.0} s");
    }
}
