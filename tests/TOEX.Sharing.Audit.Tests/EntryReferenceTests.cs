using System.Net.Http.Json;
using System.Text.Json.Nodes;
using MassTransit;
using TOEX.Sharing.Contracts;
using TOEX.Sharing.Sealing;
using TOEX.Sharing.Testing;

namespace TOEX.Sharing.Audit.Tests;

/// <summary>
/// Every entry about a package carries the originator's reference (what an officer knows a package by), from its
/// submission entry, whichever event arrived first, and a search by it finds them all; a store made before entries
/// carried it gets it at start.
/// </summary>
public abstract class EntryReferenceTests(StoreKind store) : IDisposable
{
    private const string Reference = "ROCUWM-2026-000123";

    private readonly AuditFactory _factory = new(store);

    public void Dispose()
    {
        _factory.Dispose();
        GC.SuppressFinalize(this);
    }

    private SharingDecided Decided(Guid packageId) => new()
    {
        PackageId = packageId,
        DecisionJws = new DecisionSigner(_factory.DecisionKeys.Current).Sign(Events.Decision(packageId)),
    };

    private static async Task<List<JsonObject>> EntriesAsync(AuditFactory factory, string query)
    {
        var page = await factory.ClientFor(AuditFactory.Custodian, "Audit.Read").GetFromJsonAsync<JsonObject>($"/api/v1/audit/entries?limit=1000&{query}");
        return [.. page!["items"]!.AsArray().Select(i => i!.AsObject()).Where(i => (string?)i["type"] != "consultation")];
    }

    [Fact]
    public async Task Every_entry_about_a_package_carries_its_reference_and_a_search_by_it_finds_them()
    {
        var id = NewId.NextGuid();
        var other = NewId.NextGuid();
        await _factory.DeliverAsync(Events.Submitted(id));
        await _factory.DeliverAsync(Decided(id));
        await _factory.DeliverAsync(Events.Released(id));
        await _factory.DeliverAsync(Events.Submitted(other) with { Reference = "ROCUWM-2026-000999" });

        var entries = await EntriesAsync(_factory, $"reference={Reference}");

        Assert.Equal(["submission", "decision", "decision", "release"], entries.Select(e => (string?)e["type"]));
        Assert.All(entries, e => Assert.Equal((id.ToString(), Reference), ((string?)e["packageId"], (string?)e["reference"])));
        var csv = await _factory.ClientFor(AuditFactory.Custodian, "Audit.Read").GetStringAsync($"/api/v1/audit/entries.csv?type=decision&package={id}");
        var lines = csv.Split("\r\n", StringSplitOptions.RemoveEmptyEntries);
        Assert.StartsWith("\"index\",\"type\",\"at\",\"actor\",\"justification\",\"recipients\",\"packageId\",\"reference\",", lines[0], StringComparison.Ordinal);
        Assert.All(lines.Skip(1), line => Assert.Contains($"\"{id}\",\"{Reference}\"", line, StringComparison.Ordinal));
    }

    [Fact]
    public async Task An_entry_recorded_before_its_packages_submission_gets_the_reference_when_the_submission_arrives()
    {
        var id = NewId.NextGuid();
        await _factory.DeliverAsync(Decided(id));
        Assert.All(await EntriesAsync(_factory, $"package={id}"), e => Assert.Null((string?)e["reference"]));

        await _factory.DeliverAsync(Events.Submitted(id));

        var entries = await EntriesAsync(_factory, $"reference={Reference}");
        Assert.Equal(["decision", "decision", "submission"], entries.Select(e => (string?)e["type"]));
    }

    [Fact]
    public async Task A_store_made_before_entries_carried_the_reference_gets_it_at_start()
    {
        var id = NewId.NextGuid();
        await _factory.DeliverAsync(Events.Submitted(id));
        await _factory.DeliverAsync(Decided(id));
        await _factory.TamperAsync("""DROP INDEX "IX_Entries_Reference"; ALTER TABLE "Entries" DROP COLUMN "Reference";""");

        using var restarted = new AuditFactory(_factory);
        _ = restarted.Server;

        var entries = await EntriesAsync(restarted, $"reference={Reference}");
        Assert.Equal(["submission", "decision", "decision"], entries.Select(e => (string?)e["type"]));
    }
}

public sealed class EntryReferenceTestsOnSqlite() : EntryReferenceTests(StoreKind.Sqlite);

public sealed class EntryReferenceTestsOnPostgreSql() : EntryReferenceTests(StoreKind.PostgreSql);
