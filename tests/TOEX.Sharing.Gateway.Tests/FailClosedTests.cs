using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using MassTransit.Testing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using TOEX.Sharing.Contracts;
using TOEX.Sharing.Gateway.Data;
using TOEX.Sharing.Sealing;
using TOEX.Sharing.Testing;

namespace TOEX.Sharing.Gateway.Tests;

/// <summary>
/// Fail closed on the audit ledger: while the audit worker has not confirmed the gateway's events for longer than
/// <c>Gateway:AuditLagLimit</c> (3 min here), releases are held, the package status and <c>/health</c> say why,
/// and the held copies are released as soon as the ledger catches up.
/// </summary>
public sealed class FailClosedTests : IAsyncLifetime
{
    private readonly FakeTimeProvider _time = new(TimeProvider.System.GetUtcNow());
    private readonly GatewayFactory _factory = new();
    private LocalKeyRing _decisionKeys = null!;
    private int _references;

    public Task InitializeAsync()
    {
        _factory.Time = _time;
        _factory.Settings["Gateway:AuditLagLimit"] = "00:03:00";
        // bcc-childrens takes pushes: its endpoint refuses at once and is not retried within a test, so each release
        // adds exactly one failed-attempt event (a gateway event the ledger must confirm too) when it happens.
        _factory.Settings["Gateway:Webhooks:FirstRetryDelay"] = "01:00:00";
        _factory.Settings["Gateway:Webhooks:MaxRetryDelay"] = "01:00:00";
        _factory.Settings["Gateway:Webhooks:Horizon"] = "2.00:00:00";
        _decisionKeys = _factory.TrustDecisionKeys();
        _factory.RegisterPartnerKey("bcc-childrens");
        _factory.RegisterWebhook("bcc-childrens", new Uri($"http://127.0.0.1:{FreePort.Next()}/hooks"));
        return Task.CompletedTask;
    }

    public Task DisposeAsync()
    {
        _decisionKeys.Dispose();
        _factory.Dispose();
        return Task.CompletedTask;
    }

    private ITestHarness Harness => _factory.Services.GetRequiredService<ITestHarness>();

    /// <summary>DOMAIN.md's example under a new reference, decided (bcc-childrens permitted, wmp denied).</summary>
    private async Task<Guid> DecidedAsync()
    {
        var package = Packages.Example();
        package["reference"] = $"ROCUWM-2026-8{Interlocked.Increment(ref _references):D5}";
        var (id, submitted) = await _factory.SubmitAsync(package);
        await _factory.DeliverAsync(new SharingDecided
        {
            PackageId = id,
            DecisionJws = new DecisionSigner(_decisionKeys.Current).Sign(GatewayFactory.Decide(submitted)),
        });
        // A released copy's push is attempted at once: wait for that attempt, so its event exists before the test goes on.
        await Eventually.UntilAsync(async () =>
            (string)(await BccAsync(id))["state"]! != "released" || (int?)(await BccAsync(id))["push"]?["attempts"] is not (null or 0),
            TimeSpan.FromSeconds(60), () => "bcc-childrens' push was not attempted", poll: TimeSpan.FromMilliseconds(20));
        return id;
    }

    private async Task<JsonObject> BccAsync(Guid id)
    {
        var status = await _factory.ClientFor("rocu-wm", "Packages.Submit").GetFromJsonAsync<JsonObject>($"/api/v1/packages/{id}");
        return status!["recipients"]!.AsArray().Single(r => (string)r!["partner"]! == "bcc-childrens")!["delivery"]!.AsObject();
    }

    private async Task<List<Guid>> FeedAsync()
    {
        var feed = await _factory.ClientFor("bcc-childrens", "Feed.Read").GetFromJsonAsync<JsonObject>("/api/v1/feed?limit=500");
        return [.. feed!["items"]!.AsArray().Select(i => Guid.Parse((string)i!["packageId"]!))];
    }

    private async Task<JsonObject> HealthAsync()
    {
        var response = await _factory.CreateClient().GetAsync("/health");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync<JsonObject>())!;
    }

    /// <summary>What the audit worker sends once it has recorded them: a confirmation of every event sent so far.</summary>
    private async Task ConfirmEverythingAsync()
    {
        List<Guid> unconfirmed;
        await using (var scope = _factory.Services.CreateAsyncScope())
        {
            unconfirmed = await scope.ServiceProvider.GetRequiredService<GatewayDb>().Outbox
                .Where(o => o.ConfirmedAt == null).Select(o => o.MessageId).ToListAsync();
        }
        foreach (var messageId in unconfirmed)
        {
            await _factory.DeliverAsync(new AuditRecorded { MessageId = messageId, RecordedAt = _time.GetUtcNow() });
        }
    }

    [Fact]
    public async Task Holds_releases_while_the_ledger_lags_says_why_and_releases_them_once_it_catches_up()
    {
        var first = await DecidedAsync();
        Assert.Equal("released", (string)(await BccAsync(first))["state"]!);

        _time.Advance(TimeSpan.FromMinutes(4));
        var held = await DecidedAsync();

        var delivery = await BccAsync(held);
        Assert.Equal("held", (string)delivery["state"]!);
        Assert.Contains("audit ledger has not confirmed", (string)delivery["lastError"]!, StringComparison.Ordinal);
        Assert.Contains("the limit is 3 min", (string)delivery["lastError"]!, StringComparison.Ordinal);
        Assert.Equal([first], await FeedAsync());
        var health = await HealthAsync();
        Assert.Equal("Degraded", (string)health["checks"]!["audit-ledger"]!);
        Assert.StartsWith("Releases are held", (string)health["reasons"]!["audit-ledger"]!, StringComparison.Ordinal);

        await ConfirmEverythingAsync();

        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        Assert.True(await Harness.Published.Any<PackageReleased>(m => m.Context.Message.PackageId == held, timeout.Token));
        Assert.Equal("released", (string)(await BccAsync(held))["state"]!);
        Assert.Equal([first, held], await FeedAsync());
        Assert.Equal("Healthy", (string)(await HealthAsync())["checks"]!["audit-ledger"]!);
    }

    [Fact]
    public async Task Keeps_releasing_while_every_event_older_than_the_limit_is_confirmed()
    {
        var first = await DecidedAsync();
        _time.Advance(TimeSpan.FromMinutes(2));
        var second = await DecidedAsync();
        await ConfirmEverythingAsync();
        _time.Advance(TimeSpan.FromMinutes(10));

        var third = await DecidedAsync();

        Assert.Equal("released", (string)(await BccAsync(second))["state"]!);
        Assert.Equal("released", (string)(await BccAsync(third))["state"]!);
        Assert.Equal([first, second, third], await FeedAsync());
        Assert.Equal("Healthy", (string)(await HealthAsync())["checks"]!["audit-ledger"]!);
    }
}
