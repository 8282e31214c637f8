using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using TOEX.Sharing.Audit.Data;
using TOEX.Sharing.Audit.Ledger;
using TOEX.Sharing.Cli.Tests;
using TOEX.Sharing.Ledger;
using TOEX.Sharing.Sealing;
using TOEX.Sharing.Testing;

namespace TOEX.Sharing.Audit.Tests;

/// <summary>
/// <c>toex audit verify</c> (the built tool, as an auditor runs it) on bundles exported from a ledger of six
/// entries with a head signed and stored at size six, before and after the SQLite store is tampered with.
/// </summary>
public abstract class EvidenceBundleTamperTests(StoreKind store) : IDisposable
{
    private readonly AuditFactory _factory = new(store);

    public void Dispose()
    {
        _factory.Dispose();
        GC.SuppressFinalize(this);
    }

    // The same SQL on SQLite and PostgreSQL (identifiers quoted), run on the store as someone with write access could.
    private const string Edit = """UPDATE "Entries" SET "Canonical" = replace("Canonical", 'analyst', 'analyst-x') WHERE "Index" = 2""";
    private const string Delete = """DELETE FROM "Entries" WHERE "Index" = 3""";
    private const string Reorder = """
        CREATE TEMP TABLE "Swapped" AS SELECT "Index" AS "I", "Canonical" AS "C", "LeafHash" AS "L" FROM "Entries" WHERE "Index" IN (1, 4);
        UPDATE "Entries" SET "Canonical" = (SELECT "C" FROM "Swapped" WHERE "I" = 5 - "Entries"."Index"),
            "LeafHash" = (SELECT "L" FROM "Swapped" WHERE "I" = 5 - "Entries"."Index") WHERE "Index" IN (1, 4);
        """;
    private const string Truncate = """DELETE FROM "Entries" WHERE "Index" >= 4""";

    private string Jwks => Path.Combine(_factory.Root, "audit.jwks.json");

    private async Task SeedAsync()
    {
        await LedgerTreeGrowthTests.DeliverSubmissionsAsync(_factory, 6);
        await using var scope = _factory.Services.CreateAsyncScope();
        var stored = await _factory.Services.GetRequiredService<TreeHeadSigner>()
            .PublishAsync(scope.ServiceProvider.GetRequiredService<AuditDb>(), CancellationToken.None);
        Assert.Equal(6, stored!.TreeSize);
        await File.WriteAllTextAsync(Jwks, await _factory.CreateClient().GetStringAsync("/.well-known/jwks.json"));
    }

    private static async Task<string> ExportAsync(AuditFactory factory, string query = "")
    {
        var path = Path.Combine(factory.Root, $"bundle-{Guid.NewGuid():N}.json");
        await File.WriteAllTextAsync(path, await factory.ClientFor("rocu-wm", "Audit.Read").GetStringAsync($"/api/v1/audit/export{query}"));
        return path;
    }

    private Task<ToexRun> VerifyAsync(string bundle) => Toex.RunAsync("audit", "verify", "--bundle", bundle, "--jwks", Jwks);

    private static void AssertFailsAt(ToexRun run, string named)
    {
        Assert.True(run.ExitCode == 1, run.ToString());
        Assert.Contains(named, run.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Verifies_an_untouched_export_whole_and_as_a_sub_range()
    {
        await SeedAsync();

        var whole = await VerifyAsync(await ExportAsync(_factory));
        var part = await VerifyAsync(await ExportAsync(_factory, "?from=2&to=4"));

        Assert.True(whole.ExitCode == 0, whole.ToString());
        Assert.Contains("Verified 6 entries", whole.Output, StringComparison.Ordinal);
        Assert.True(part.ExitCode == 0, part.ToString());
        Assert.Contains("Verified 3 entries", part.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Exports_only_the_entries_the_filters_select_and_they_verify()
    {
        await SeedAsync();
        var chosen = (await _factory.LedgerAsync())[2].PackageId;
        // A search (a consultation entry, index 6) between two submissions: a selection of submissions skips it.
        await _factory.ClientFor("rocu-wm", "Audit.Read").GetStringAsync("/api/v1/audit/entries?type=decision");
        await LedgerTreeGrowthTests.DeliverSubmissionsAsync(_factory, 1);

        var package = await ExportAsync(_factory, $"?package={chosen}");
        var submissions = await ExportAsync(_factory, "?type=submission");

        var one = JsonNode.Parse(await File.ReadAllTextAsync(package))!;
        Assert.Equal([2L], one["entries"]!.AsArray().Select(e => (long)e!["index"]!));
        Assert.Equal(chosen.ToString(), (string?)one["selection"]!["package"]);
        var seven = JsonNode.Parse(await File.ReadAllTextAsync(submissions))!;
        Assert.Equal([0L, 1, 2, 3, 4, 5, 7], seven["entries"]!.AsArray().Select(e => (long)e!["index"]!));
        var verifiedOne = await VerifyAsync(package);
        var verifiedSeven = await VerifyAsync(submissions);
        Assert.True(verifiedOne.ExitCode == 0, verifiedOne.ToString());
        Assert.True(verifiedSeven.ExitCode == 0, verifiedSeven.ToString());
        Assert.Contains("Verified 7 entries", verifiedSeven.Output, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(Edit, "entry at index 2:")]
    [InlineData(Delete, "entry at index 3:")]
    [InlineData(Reorder, "entry at index 1:")]
    [InlineData(Truncate, "entry at index 4:")]
    public async Task Names_the_first_entry_tampered_with_in_the_store(string sql, string named)
    {
        await SeedAsync();
        await _factory.TamperAsync(sql);

        AssertFailsAt(await VerifyAsync(await ExportAsync(_factory)), named);
    }

    [Theory]
    [InlineData(Edit, "entry at index 2:")]
    [InlineData(Delete, "entry at index 3:")]
    [InlineData(Reorder, "entry at index 1:")]
    [InlineData(Truncate, "entries from index 4 are missing")]
    public async Task Names_the_first_entry_tampered_with_after_a_restart_rebuilt_the_tree_from_the_store(string sql, string named)
    {
        await SeedAsync();
        await _factory.TamperAsync(sql);

        using var restarted = new AuditFactory(_factory);
        AssertFailsAt(await VerifyAsync(await ExportAsync(restarted)), named);
    }

    [Fact]
    public async Task Names_the_first_missing_entry_of_a_bundle_file_cut_short()
    {
        await SeedAsync();
        var path = await ExportAsync(_factory);
        var bundle = JsonNode.Parse(await File.ReadAllTextAsync(path))!.AsObject();
        var entries = bundle["entries"]!.AsArray();
        entries.RemoveAt(5);
        entries.RemoveAt(4);
        await File.WriteAllTextAsync(path, bundle.ToJsonString());

        AssertFailsAt(await VerifyAsync(path), "entry at index 4:");
    }

    [Fact]
    public async Task Refuses_a_head_re_signed_by_a_forger_when_given_the_published_keys()
    {
        await SeedAsync();
        var path = await ExportAsync(_factory);
        using var forger = LocalKeyRing.OpenOrCreate(Path.Combine(_factory.Root, "forger"), TimeProvider.System);
        var bundle = JsonNode.Parse(await File.ReadAllTextAsync(path))!.AsObject();
        var head = SignedTreeHead.Create(
            6, Convert.FromBase64String((string)bundle["treeHead"]!["rootHash"]!), DateTimeOffset.UnixEpoch, forger.Current.KeyId);
        head = head with { Signature = forger.Current.SignData(head.ToSignedBytes()) };
        bundle["treeHead"] = JsonSerializer.SerializeToNode(TreeHeadDocument.From(head), JsonSerializerOptions.Web);
        bundle["storedTreeHeads"] = new JsonArray();
        bundle["jwks"] = JsonNode.Parse(forger.PublicJwks());
        await File.WriteAllTextAsync(path, bundle.ToJsonString());

        var alone = await Toex.RunAsync("audit", "verify", "--bundle", path);
        var published = await VerifyAsync(path);

        // A bundle carrying only its own (the forger's) keys is self-consistent, and that proves nothing: exit 1.
        Assert.True(alone.ExitCode == 1, alone.ToString());
        Assert.Contains("NOT PROVEN", alone.Error, StringComparison.Ordinal);
        AssertFailsAt(published, "tree head (size 6): signed by key");
    }

    [Fact]
    public async Task Exits_2_on_a_missing_or_malformed_bundle()
    {
        var missing = await Toex.RunAsync("audit", "verify", "--bundle", Path.Combine(_factory.Root, "none.json"));
        var malformed = Path.Combine(_factory.Root, "malformed.json");
        await File.WriteAllTextAsync(malformed, """{"format":"something-else"}""");
        var wrong = await Toex.RunAsync("audit", "verify", "--bundle", malformed);
        var noOption = await Toex.RunAsync("audit", "verify");

        Assert.True(missing.ExitCode == 2, missing.ToString());
        Assert.True(wrong.ExitCode == 2, wrong.ToString());
        Assert.True(noOption.ExitCode == 2, noOption.ToString());
    }
}

public sealed class EvidenceBundleTamperTestsOnSqlite() : EvidenceBundleTamperTests(StoreKind.Sqlite);

public sealed class EvidenceBundleTamperTestsOnPostgreSql() : EvidenceBundleTamperTests(StoreKind.PostgreSql);
