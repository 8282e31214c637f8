using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using TOEX.Sharing.Audit.Data;
using TOEX.Sharing.Audit.Ledger;
using TOEX.Sharing.Ledger;
using TOEX.Sharing.Sealing;
using TOEX.Sharing.Testing;

namespace TOEX.Sharing.Audit.Tests;

/// <summary>Signed tree heads, inclusion and consistency proofs over the fixture's seven entries.</summary>
public abstract class LedgerProofsApiTests(AuditApiFixture fixture)
{
    private HttpClient Auditor() => fixture.Factory.ClientFor("rocu-wm", "Audit.Read");

    [Fact]
    public async Task Signs_the_tree_head_with_a_key_of_the_published_audit_jwks()
    {
        var head = await TreeHeadAsync(fixture.Factory);

        Assert.Equal(7, head.TreeSize);
        Assert.True(await VerifiesAsync(fixture.Factory, head));
        Assert.False(await VerifiesAsync(fixture.Factory, head with { TreeSize = 6 }));
    }

    [Fact]
    public async Task Publishes_the_audit_jwks_anonymously()
    {
        var response = await fixture.Factory.CreateClient().GetAsync("/.well-known/jwks.json");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var keys = (await response.Content.ReadFromJsonAsync<JsonObject>())!["keys"]!.AsArray();
        Assert.NotEmpty(keys);
        Assert.All(keys, key => Assert.Null(key!["d"]));
    }

    [Fact]
    public async Task Proves_inclusion_to_another_organisation_only_of_the_entries_it_may_read()
    {
        // bcc-childrens received nothing (the fixture's release was never delivered); wmp originated package B (indexes 4-6).
        var bcc = fixture.Factory.ClientFor("bcc-childrens", "Audit.Read");
        var wmp = fixture.Factory.ClientFor("wmp", "Audit.Read");

        Assert.Equal(HttpStatusCode.NotFound, (await bcc.GetAsync("/api/v1/audit/proofs/inclusion?index=3&treeSize=7")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await wmp.GetAsync("/api/v1/audit/proofs/inclusion?index=0&treeSize=7")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await wmp.GetAsync("/api/v1/audit/proofs/inclusion?index=4&treeSize=7")).StatusCode);
    }

    [Fact]
    public async Task Proves_every_entry_included_in_the_signed_head()
    {
        var head = await TreeHeadAsync(fixture.Factory);
        var ledger = await fixture.Factory.LedgerAsync();

        foreach (var entry in ledger)
        {
            var proof = (await Auditor().GetFromJsonAsync<InclusionProofDocument>(
                $"/api/v1/audit/proofs/inclusion?index={entry.Index}&treeSize={head.TreeSize}"))!;
            Assert.Equal(Convert.FromHexString(entry.LeafHash), Convert.FromBase64String(proof.LeafHash));
            var result = MerkleVerifier.VerifyInclusion(
                entry.Index, head.TreeSize, Convert.FromHexString(entry.LeafHash), Hashes(proof.AuditPath), head.RootHash);
            Assert.True(result.IsValid, $"entry {entry.Index}: {result}");
        }
    }

    [Theory]
    [InlineData("index=abc&treeSize=7", "index")]
    [InlineData("treeSize=7", "index")]
    [InlineData("index=-1&treeSize=7", "index")]
    [InlineData("index=7&treeSize=7", "index")]
    [InlineData("index=3&treeSize=3", "index")]
    [InlineData("index=0&treeSize=8", "treeSize")]
    [InlineData("index=0&treeSize=0", "treeSize")]
    [InlineData("index=0&treeSize=seven", "treeSize")]
    public async Task Answers_400_naming_the_bad_inclusion_parameter(string query, string field) =>
        await AssertProblemAsync($"/api/v1/audit/proofs/inclusion?{query}", field);

    [Theory]
    [InlineData("from=0&to=7", "from")]
    [InlineData("from=5&to=3", "from")]
    [InlineData("from=x&to=3", "from")]
    [InlineData("to=3", "from")]
    [InlineData("from=1&to=8", "to")]
    [InlineData("from=1&to=y", "to")]
    public async Task Answers_400_naming_the_bad_consistency_parameter(string query, string field) =>
        await AssertProblemAsync($"/api/v1/audit/proofs/consistency?{query}", field);

    [Theory]
    [InlineData("from=x", "from")]
    [InlineData("from=5&to=2", "from")]
    [InlineData("to=7", "to")]
    public async Task Answers_400_naming_the_bad_export_parameter(string query, string field) =>
        await AssertProblemAsync($"/api/v1/audit/export?{query}", field);

    private async Task AssertProblemAsync(string uri, string field)
    {
        var response = await Auditor().GetAsync(uri);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType!.MediaType);
        var problem = (await response.Content.ReadFromJsonAsync<JsonObject>())!;
        Assert.False(string.IsNullOrEmpty((string?)problem["type"]));
        Assert.Equal([field], problem["errors"]!.AsObject().Select(e => e.Key));
    }

    internal static async Task<SignedTreeHead> TreeHeadAsync(AuditFactory factory)
    {
        var document = await factory.ClientFor("rocu-wm", "Audit.Read").GetFromJsonAsync<TreeHeadDocument>("/api/v1/audit/tree-head");
        return document!.ToSignedTreeHead();
    }

    internal static async Task<bool> VerifiesAsync(AuditFactory factory, SignedTreeHead head)
    {
        var jwks = await factory.CreateClient().GetStringAsync("/.well-known/jwks.json");
        using var key = JsonWebKeys.FindVerificationKey(jwks, head.KeyId, "The audit JWKS");
        return key is not null && head.VerifySignature(key);
    }

    internal static List<byte[]> Hashes(IEnumerable<string> base64) => [.. base64.Select(Convert.FromBase64String)];
}

/// <summary>The tree as the ledger grows, and across a restart over the same store and key ring.</summary>
public abstract class LedgerTreeGrowthTests(StoreKind store)
{
    [Fact]
    public async Task Proves_a_later_head_consistent_with_an_earlier_one_and_continues_the_tree_after_a_restart()
    {
        using var factory = new AuditFactory(store);
        await DeliverSubmissionsAsync(factory, 3);
        var first = await LedgerProofsApiTests.TreeHeadAsync(factory);
        await DeliverSubmissionsAsync(factory, 2);
        var second = await LedgerProofsApiTests.TreeHeadAsync(factory);

        Assert.Equal((3L, 5L), (first.TreeSize, second.TreeSize));
        AssertConsistent(await ConsistencyAsync(factory, first.TreeSize, second.TreeSize), first, second);

        // A new instance over the same store and key ring: it rebuilds the tree from the store.
        using var restarted = new AuditFactory(factory);
        var resumed = await LedgerProofsApiTests.TreeHeadAsync(restarted);
        Assert.Equal(second.TreeSize, resumed.TreeSize);
        Assert.Equal(second.RootHash, resumed.RootHash);
        Assert.Equal(second.KeyId, resumed.KeyId);
        Assert.True(await LedgerProofsApiTests.VerifiesAsync(restarted, resumed));

        await DeliverSubmissionsAsync(restarted, 4);
        var third = await LedgerProofsApiTests.TreeHeadAsync(restarted);
        Assert.Equal(9, third.TreeSize);
        AssertConsistent(await ConsistencyAsync(restarted, first.TreeSize, third.TreeSize), first, third);
        AssertConsistent(await ConsistencyAsync(restarted, second.TreeSize, third.TreeSize), second, third);
    }

    [Fact]
    public async Task Stores_a_signed_head_only_when_the_tree_has_grown()
    {
        using var factory = new AuditFactory(store);
        await DeliverSubmissionsAsync(factory, 2);
        var signer = factory.Services.GetRequiredService<TreeHeadSigner>();
        await using var scope = factory.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<AuditDb>();

        var stored = await signer.PublishAsync(db, CancellationToken.None);
        var again = await signer.PublishAsync(db, CancellationToken.None);

        Assert.Equal(2, stored!.TreeSize);
        Assert.Null(again);
        var heads = await TreeHeadSigner.StoredAsync(db, CancellationToken.None);
        Assert.Equal([stored], heads);
        Assert.True(await LedgerProofsApiTests.VerifiesAsync(factory, heads[0]));
    }

    [Fact]
    public async Task Concurrent_appends_commit_together_in_one_gapless_order_each_event_once()
    {
        using var factory = new AuditFactory(store);
        _ = factory.Server;
        var writer = factory.Services.GetRequiredService<LedgerWriter>();
        var groups = new System.Collections.Concurrent.ConcurrentBag<int>();
        var type = $"group-commit-{Guid.NewGuid():N}"; // tells this test's spans from those of tests running alongside
        using var listener = new System.Diagnostics.ActivityListener
        {
            ShouldListenTo = source => source.Name == TOEX.Sharing.ServiceDefaults.ToexTelemetry.ActivitySourceName,
            Sample = (ref System.Diagnostics.ActivityCreationOptions<System.Diagnostics.ActivityContext> _) =>
                System.Diagnostics.ActivitySamplingResult.AllData,
            ActivityStopped = a =>
            {
                if (a.OperationName == "audit.append" && a.GetTagItem("toex.ledger.entry_type") as string == type
                    && a.GetTagItem("toex.ledger.group") is int group)
                {
                    groups.Add(group);
                }
            },
        };
        System.Diagnostics.ActivitySource.AddActivityListener(listener);
        // 120 callers at once, each on its own store context as consumers are; 40 of them append an event another
        // caller also appends (a redelivery racing the first delivery), one of them 3 entries at a time.
        var keys = Enumerable.Range(0, 80).Select(i => $"group-commit:{i}").ToList();
        var requests = keys.Select(k => new[] { k }).Concat(keys.Take(40).Select(k => new[] { k }))
            .Append(["group-commit:a", "group-commit:b", "group-commit:c"]).ToList();
        using var start = new ManualResetEventSlim();
        var appends = requests.Select(request => Task.Run(async () =>
        {
            start.Wait();
            await using var scope = factory.Services.CreateAsyncScope();
            var db = scope.ServiceProvider.GetRequiredService<AuditDb>();
            return await writer.AppendAsync(db, [.. request.Select(k => new LedgerRecord
            {
                EventKey = k, Type = type, At = Events.At, Actor = "test", Justification = "group commit", Recipients = ["rocu-wm"],
            })], CancellationToken.None);
        })).ToList();
        start.Set();
        var counts = await Task.WhenAll(appends);
        // Committed in groups: each caller's span says how many callers its transaction held; some held several.
        Assert.Equal(requests.Count, groups.Count);
        Assert.Contains(groups, group => group > 1);

        await using var check = factory.Services.CreateAsyncScope();
        var entries = await check.ServiceProvider.GetRequiredService<AuditDb>().Entries.AsNoTracking().OrderBy(e => e.Index).ToListAsync();
        Assert.Equal(83, entries.Count);
        Assert.Equal(83, counts.Sum());
        Assert.Equal(Enumerable.Range(0, 83).Select(i => (long)i), entries.Select(e => e.Index));
        Assert.Equal(entries.Count, entries.Select(e => e.EventKey).Distinct().Count());
        // The chain links every entry to the one before it, across the groups.
        var chain = new byte[32];
        foreach (var entry in entries)
        {
            var leaf = LedgerWriter.LeafHash(System.Text.Encoding.UTF8.GetBytes(entry.Canonical));
            Assert.Equal(entry.LeafHash, Convert.ToHexStringLower(leaf));
            chain = System.Security.Cryptography.SHA256.HashData([.. chain, .. leaf]);
            Assert.Equal(entry.ChainHash, Convert.ToHexStringLower(chain));
        }
        var head = await LedgerProofsApiTests.TreeHeadAsync(factory);
        Assert.Equal(83, head.TreeSize);
        Assert.True(await LedgerProofsApiTests.VerifiesAsync(factory, head));
    }

    internal static async Task DeliverSubmissionsAsync(AuditFactory factory, int count)
    {
        for (var i = 0; i < count; i++)
        {
            await factory.DeliverAsync(Events.Submitted(Guid.NewGuid(), "rocu-wm", Events.At.AddMinutes(i), ["bcc-childrens"]));
        }
    }

    private static async Task<ConsistencyProofDocument> ConsistencyAsync(AuditFactory factory, long from, long to) =>
        (await factory.ClientFor("rocu-wm", "Audit.Read").GetFromJsonAsync<ConsistencyProofDocument>(
            $"/api/v1/audit/proofs/consistency?from={from}&to={to}"))!;

    private static void AssertConsistent(ConsistencyProofDocument proof, SignedTreeHead older, SignedTreeHead newer)
    {
        Assert.Equal((older.TreeSize, newer.TreeSize), (proof.From, proof.To));
        var result = MerkleVerifier.VerifyConsistency(
            older.TreeSize, newer.TreeSize, older.RootHash, newer.RootHash, LedgerProofsApiTests.Hashes(proof.Proof));
        Assert.True(result.IsValid, result.ToString());
    }
}

public sealed class LedgerProofsApiTestsOnSqlite(SqliteAuditApi fixture) : LedgerProofsApiTests(fixture), IClassFixture<SqliteAuditApi>;

public sealed class LedgerProofsApiTestsOnPostgreSql(PostgreSqlAuditApi fixture) : LedgerProofsApiTests(fixture), IClassFixture<PostgreSqlAuditApi>;

public sealed class LedgerTreeGrowthTestsOnSqlite() : LedgerTreeGrowthTests(StoreKind.Sqlite);

public sealed class LedgerTreeGrowthTestsOnPostgreSql() : LedgerTreeGrowthTests(StoreKind.PostgreSql);
