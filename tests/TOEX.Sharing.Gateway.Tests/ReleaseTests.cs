using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using MassTransit.Testing;
using Microsoft.Extensions.DependencyInjection;
using TOEX.Sharing.Contracts;
using TOEX.Sharing.Policy;
using TOEX.Sharing.Sealing;
using TOEX.Sharing.Testing;
using MassTransit;
using TOEX.Sharing.Gateway.Data;

namespace TOEX.Sharing.Gateway.Tests;

/// <summary>The gateway's decision consumer, driven through MassTransit's test harness.</summary>
public abstract class ReleaseTests(StoreKind store) : IAsyncLifetime
{
    private readonly GatewayFactory _factory = new(store: store);
    private LocalKeyRing _decisionKeys = null!;
    private string _bccKey = null!;
    private string _wmpKey = null!;

    public Task InitializeAsync()
    {
        _decisionKeys = _factory.TrustDecisionKeys();
        _bccKey = _factory.RegisterPartnerKey("bcc-childrens");
        _wmpKey = _factory.RegisterPartnerKey("wmp");
        return Task.CompletedTask;
    }

    public Task DisposeAsync()
    {
        _decisionKeys.Dispose();
        _factory.Dispose();
        return Task.CompletedTask;
    }

    private Task<(Guid Id, PackageSubmitted Submitted)> SubmitAsync(JsonObject package) => _factory.SubmitAsync(package);

    private static SignedDecision Decide(PackageSubmitted submitted) => GatewayFactory.Decide(submitted);

    private Task DeliverAsync(Guid id, string jws) => _factory.DeliverAsync(new SharingDecided { PackageId = id, DecisionJws = jws });

    private async Task<JsonArray> FeedAsync(string partner)
    {
        var feed = await _factory.ClientFor(partner, "Feed.Read").GetFromJsonAsync<JsonObject>("/api/v1/feed");
        return feed!["items"]!.AsArray();
    }

    private async Task<JsonObject> StatusAsync(Guid id) =>
        (await _factory.ClientFor("rocu-wm", "Packages.Submit").GetFromJsonAsync<JsonObject>($"/api/v1/packages/{id}"))!;

    private string BrokerJwks() => _factory.Services.GetRequiredService<IKeyRing>().PublicJwks();

    [Fact]
    public async Task Releases_a_sanitised_copy_sealed_for_the_permitted_recipient_only()
    {
        var (id, submitted) = await SubmitAsync(Packages.Example());

        await DeliverAsync(id, new DecisionSigner(_decisionKeys.Current).Sign(Decide(submitted)));

        var items = await FeedAsync("bcc-childrens");
        var item = Assert.Single(items);
        Assert.Equal("package", (string)item!["kind"]!);
        var copy = JsonNode.Parse(PackageOpener.Open((string)item["sealed"]!, _bccKey, BrokerJwks()))!.AsObject();
        var package = copy["package"]!.AsObject();
        Assert.Equal("ROCUWM-2026-000123", (string)package["reference"]!);
        foreach (var withheld in new[] { "sourceEvaluation", "intelligenceAssessment", "sourceDetails", "moRiLE", "recipients" })
        {
            Assert.False(package.ContainsKey(withheld), $"{withheld} should have been removed");
        }
        Assert.All(package["subjects"]!.AsArray(), s => Assert.False(s!.AsObject().ContainsKey("identifiers")));
        Assert.Equal(["Do not disclose to the subject", "Consult the originator before action"],
            copy["handlingConditions"]!.AsArray().Select(c => (string)c!));
        Assert.True((bool)copy["acknowledgementRequired"]!);
        Assert.Equal("2027-11-25", (string)copy["retainUntil"]!);
        Assert.True((bool)copy["noOnwardSharing"]!);
        Assert.Throws<SealException>(() => PackageOpener.Open((string)item["sealed"]!, _wmpKey, BrokerJwks()));

        Assert.Empty(await FeedAsync("wmp"));
        var status = await StatusAsync(id);
        Assert.Equal("decided", (string)status["status"]!);
        // Its feed read returned the copy: the recipient has it.
        Assert.Equal("delivered", (string)status["recipients"]![0]!["delivery"]!["state"]!);
        Assert.Equal("withheld", (string)status["recipients"]![1]!["delivery"]!["state"]!);
        Assert.Equal(["PURPOSE_NOT_PERMITTED", "GATEWAY_NOT_PERMITTED", "ADVICE_REVIEW_OVERDUE"],
            status["recipients"]![1]!["reasons"]!.AsArray().Select(r => (string)r!["code"]!));

        var harness = _factory.Services.GetRequiredService<ITestHarness>();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        Assert.True(await harness.Published.AnyEventAsync<PackageReleased>(m => m.PackageId == id && m.Recipient == "bcc-childrens", timeout.Token));
    }

    [Fact]
    public async Task Releases_nothing_on_a_decision_signed_by_another_key()
    {
        var (id, submitted) = await SubmitAsync(Packages.Example());
        using var forger = LocalKeyRing.OpenOrCreate(Path.Combine(_factory.Root, "forger"), TimeProvider.System);

        await DeliverAsync(id, new DecisionSigner(forger.Current).Sign(Decide(submitted)));

        Assert.Empty(await FeedAsync("bcc-childrens"));
        var status = await StatusAsync(id);
        Assert.Equal("decision-rejected", (string)status["status"]!);
        var harness = _factory.Services.GetRequiredService<ITestHarness>();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        Assert.True(await harness.Published.AnyEventAsync<DecisionRejected>(m => m.PackageId == id, timeout.Token));
    }

    [Theory]
    [InlineData("missing")]
    [InlineData("unreadable")]
    public async Task Retries_a_decision_while_the_decision_keys_cannot_be_read_and_releases_once_they_can(string fault)
    {
        var (id, submitted) = await SubmitAsync(Packages.Example());
        var decision = new SharingDecided { PackageId = id, DecisionJws = new DecisionSigner(_decisionKeys.Current).Sign(Decide(submitted)) };
        var jwks = await File.ReadAllTextAsync(_factory.DecisionJwksPath);
        if (fault == "missing")
        {
            File.Delete(_factory.DecisionJwksPath);
        }
        else
        {
            await File.WriteAllTextAsync(_factory.DecisionJwksPath, "{\"keys\": [");
        }
        var messageId = NewId.NextGuid();

        var exception = await _factory.DeliverFaultingAsync(decision, messageId, "1");

        // A fault of the gateway's own configuration: the decision is retried, not refused.
        Assert.Contains("PolicyDecision's public keys", exception.Message, StringComparison.Ordinal);
        Assert.Equal("submitted", (string)(await StatusAsync(id))["status"]!);
        Assert.DoesNotContain(_factory.Services.GetRequiredService<ITestHarness>().Published.Events<DecisionRejected>(), m => m.PackageId == id);

        await File.WriteAllTextAsync(_factory.DecisionJwksPath, jwks);
        await _factory.DeliverAsync(decision, messageId, "2");

        Assert.Equal("decided", (string)(await StatusAsync(id))["status"]!);
        Assert.Single(await FeedAsync("bcc-childrens"));
    }

    [Fact]
    public async Task Releases_nothing_on_a_decision_for_other_content()
    {
        var (id, submitted) = await SubmitAsync(Packages.Example());
        var forged = Decide(submitted) with { ContentHash = "sha256:" + new string('0', 64) };

        await DeliverAsync(id, new DecisionSigner(_decisionKeys.Current).Sign(forged));

        Assert.Empty(await FeedAsync("bcc-childrens"));
        Assert.Equal("decision-rejected", (string)(await StatusAsync(id))["status"]!);
    }

    [Fact]
    public async Task Acts_on_a_redelivered_decision_once()
    {
        var (id, submitted) = await SubmitAsync(Packages.Example());
        var jws = new DecisionSigner(_decisionKeys.Current).Sign(Decide(submitted));

        await DeliverAsync(id, jws);
        await DeliverAsync(id, jws);

        Assert.Single(await FeedAsync("bcc-childrens"));
    }

    [Fact]
    public async Task A_batch_of_decisions_releases_each_package_whose_release_succeeds_whatever_becomes_of_the_others()
    {
        // Long enough for the five decisions below to be acted on as one batch, released in one commit.
        _factory.Settings["Gateway:DecisionBatchWindow"] = "00:00:02";
        var packages = new List<(Guid Id, PackageSubmitted Submitted)>();
        for (var i = 0; i < 5; i++)
        {
            var package = Packages.Example();
            package["reference"] = $"BATCH-{i}";
            packages.Add(await SubmitAsync(package));
        }
        var (forged, failing) = (packages[1].Id, packages[3].Id);
        using var forger = LocalKeyRing.OpenOrCreate(Path.Combine(_factory.Root, "forger"), TimeProvider.System);
        // The store refuses the release of one package: its copy's row for bcc-childrens is already there.
        await using (var scope = _factory.Services.CreateAsyncScope())
        {
            var db = scope.ServiceProvider.GetRequiredService<GatewayDb>();
            db.Feed.Add(new FeedItem { Recipient = "bcc-childrens", PackageId = failing, Kind = ItemKind.Package, Sealed = "planted", Position = 1000 });
            await db.SaveChangesAsync();
        }

        var consumptions = _factory.Services.GetRequiredService<Consumptions>();
        var harness = _factory.Services.GetRequiredService<ITestHarness>();
        var messages = packages.Select(p => (p.Id, MessageId: NewId.NextGuid(), Decided: new SharingDecided
        {
            PackageId = p.Id,
            DecisionJws = new DecisionSigner(p.Id == forged ? forger.Current : _decisionKeys.Current).Sign(Decide(p.Submitted)),
        })).ToList();
        var consumed = messages.Select(m => consumptions.WaitAsync(m.MessageId, "1", TimeSpan.FromSeconds(60))).ToList();
        await Task.WhenAll(messages.Select(m => harness.Bus.Publish(m.Decided, context =>
        {
            context.MessageId = m.MessageId;
            context.Headers.Set(Consumptions.DeliveryHeader, "1");
        })));

        // The batch is consumed: the failed package is left undecided (asked of PolicyDecision again later), not dead-lettered.
        await Task.WhenAll(consumed);
        foreach (var (id, _) in packages.Where(p => p.Id != forged && p.Id != failing))
        {
            Assert.Equal("decided", (string)(await StatusAsync(id))["status"]!);
        }
        Assert.Equal("decision-rejected", (string)(await StatusAsync(forged))["status"]!);
        Assert.Equal("submitted", (string)(await StatusAsync(failing))["status"]!);
        var feed = await FeedAsync("bcc-childrens");
        // The three released, and the planted row (not a sealed copy of the gateway's).
        Assert.Equal(4, feed.Count);
    }

    [Fact]
    public async Task Holds_a_referral_and_releases_nothing()
    {
        var (id, submitted) = await SubmitAsync(Packages.Load("rocuwm-2026-000126.json"));

        await DeliverAsync(id, new DecisionSigner(_decisionKeys.Current).Sign(Decide(submitted)));

        Assert.Empty(await FeedAsync("bcc-childrens"));
        var recipient = (await StatusAsync(id))["recipients"]![0]!;
        Assert.Equal("refer", (string)recipient["outcome"]!);
        Assert.Equal("awaiting-referral", (string)recipient["delivery"]!["state"]!);
    }

    [Fact]
    public async Task Releases_nothing_to_a_permitted_partner_without_a_registered_key()
    {
        File.Delete(Path.Combine(_factory.PartnerKeysDirectory, "bcc-childrens.jwks.json"));
        var (id, submitted) = await SubmitAsync(Packages.Example());

        await DeliverAsync(id, new DecisionSigner(_decisionKeys.Current).Sign(Decide(submitted)));

        Assert.Empty(await FeedAsync("bcc-childrens"));
        Assert.Equal("failed", (string)(await StatusAsync(id))["recipients"]![0]!["delivery"]!["state"]!);
    }

    [Fact]
    public async Task Pages_a_feed_by_cursor_and_acknowledges_own_items_only()
    {
        var (id, submitted) = await SubmitAsync(Packages.Example());
        await DeliverAsync(id, new DecisionSigner(_decisionKeys.Current).Sign(Decide(submitted)));
        var bcc = _factory.ClientFor("bcc-childrens", "Feed.Read");

        var first = await bcc.GetFromJsonAsync<JsonObject>("/api/v1/feed?limit=1");
        var next = (string)first!["next"]!;
        var after = await bcc.GetFromJsonAsync<JsonObject>($"/api/v1/feed?after={next}");
        var badLimit = await bcc.GetAsync("/api/v1/feed?limit=100000");
        var otherAck = await _factory.ClientFor("wmp", "Feed.Read").PostAsync($"/api/v1/feed/{id}/ack", null);
        var ack = await bcc.PostAsync($"/api/v1/feed/{id}/ack", null);

        Assert.Single(first["items"]!.AsArray());
        Assert.Empty(after!["items"]!.AsArray());
        Assert.Equal(next, (string)after["next"]!);
        Assert.Equal(HttpStatusCode.BadRequest, badLimit.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, otherAck.StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, ack.StatusCode);
        Assert.Equal("acknowledged", (string)(await StatusAsync(id))["recipients"]![0]!["delivery"]!["state"]!);
    }
}

public sealed class ReleaseTestsOnSqlite() : ReleaseTests(StoreKind.Sqlite);

public sealed class ReleaseTestsOnPostgreSql() : ReleaseTests(StoreKind.PostgreSql);
