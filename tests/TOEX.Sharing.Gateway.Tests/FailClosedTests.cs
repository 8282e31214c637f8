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
        // An unconfirmed event is published again after 1 min, then 2 min, then every 4 min.
        _factory.Settings["Gateway:AuditResendInterval"] = "00:01:00";
        _factory.Settings["Gateway:AuditResendMaxInterval"] = "00:04:00";
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

    private async Task<List<(Guid Id, string Type)>> UnconfirmedAsync()
    {
        await using var scope = _factory.Services.CreateAsyncScope();
        return [.. (await scope.ServiceProvider.GetRequiredService<GatewayDb>().Outbox.Where(o => o.ConfirmedAt == null)
            .OrderBy(o => o.Sequence).Select(o => new { o.MessageId, o.MessageType }).ToListAsync()).Select(o => (o.MessageId, o.MessageType))];
    }

    /// <summary>What the audit worker sends once one group commit has recorded them: one confirmation naming every event sent so far.</summary>
    private async Task ConfirmEverythingAsync(Guid? except = null)
    {
        var unconfirmed = (await UnconfirmedAsync()).Select(e => e.Id).Where(id => id != except).ToList();
        await _factory.DeliverAsync(new AuditRecorded { EventIds = unconfirmed, RecordedAt = _time.GetUtcNow() });
    }

    private readonly PublishCounter _published = new();

    /// <summary>How many times the bus published the outbox event <paramref name="messageId"/> (the harness's own list keeps one per message id).</summary>
    private int Published(Guid messageId) => _published.Count(messageId);

    private sealed class PublishCounter : MassTransit.IPublishObserver
    {
        private readonly System.Collections.Concurrent.ConcurrentDictionary<Guid, int> _counts = new();

        public int Count(Guid messageId) => _counts.GetValueOrDefault(messageId);

        public Task PrePublish<T>(MassTransit.PublishContext<T> context) where T : class => Task.CompletedTask;

        public Task PostPublish<T>(MassTransit.PublishContext<T> context) where T : class
        {
            // The outbox's events travel in batches, each with its own id.
            foreach (var id in context.Message is GatewayEventBatch batch ? batch.Events.Select(e => e.MessageId) : [])
            {
                _counts.AddOrUpdate(id, 1, (_, n) => n + 1);
            }
            return Task.CompletedTask;
        }

        public Task PublishFault<T>(MassTransit.PublishContext<T> context, Exception exception) where T : class => Task.CompletedTask;
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
        Assert.True(await Harness.Published.AnyEventAsync<PackageReleased>(m => m.PackageId == held, timeout.Token));
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

    [Fact]
    public async Task Marks_every_event_a_batch_confirmation_names_and_reads_the_one_event_form_of_before()
    {
        await DecidedAsync();
        await DecidedAsync();
        var unconfirmed = await UnconfirmedAsync();
        Assert.True(unconfirmed.Count >= 4, string.Join(", ", unconfirmed));

        await _factory.DeliverAsync(new AuditRecorded { EventIds = [.. unconfirmed.Skip(1).Select(e => e.Id)], RecordedAt = _time.GetUtcNow() });
        Assert.Equal([unconfirmed[0]], await UnconfirmedAsync());

        // An audit worker of before the batches confirms one event per message.
        await _factory.DeliverAsync(new AuditRecorded { MessageId = unconfirmed[0].Id, RecordedAt = _time.GetUtcNow() });
        Assert.Empty(await UnconfirmedAsync());
    }

    [Fact]
    public async Task Publishes_an_unconfirmed_event_again_with_backoff_names_it_while_holding_and_releases_once_it_is_confirmed()
    {
        using var observing = Harness.Bus.ConnectPublishObserver(_published);
        var first = await DecidedAsync();
        var lost = (await UnconfirmedAsync()).First(e => e.Type == nameof(PackageReleased)).Id;
        // The ledger has every event but the release (the broker lost it on the way).
        await ConfirmEverythingAsync(except: lost);
        Assert.Equal(1, Published(lost));

        // After the interval it is published again, with its own message id (the ledger keys on it).
        _time.Advance(TimeSpan.FromSeconds(50));
        await Eventually.UntilAsync(() =>
        {
            _time.Advance(TimeSpan.FromSeconds(5));
            return Task.FromResult(Published(lost) == 2);
        }, TimeSpan.FromSeconds(30), () => $"the unconfirmed release was published {Published(lost)} time(s)", poll: TimeSpan.FromMilliseconds(50));
        var resentAt = _time.GetUtcNow();

        // The next re-send waits twice as long (2 min): not within the next 90 s.
        _time.Advance(TimeSpan.FromSeconds(90));
        var resender = _factory.Services.GetServices<Microsoft.Extensions.Hosting.IHostedService>().OfType<Release.AuditResender>().Single();
        Assert.Equal(0, await resender.ResendDueAsync(CancellationToken.None));
        await using (var scope = _factory.Services.CreateAsyncScope())
        {
            var row = await scope.ServiceProvider.GetRequiredService<GatewayDb>().Outbox.AsNoTracking().SingleAsync(o => o.MessageId == lost);
            Assert.NotNull(row.SentAt);
            Assert.Equal(2, row.Attempts);
        }
        Assert.Equal(2, Published(lost));

        // Past the lag limit (3 min from the event), releases are held, and /health names the event the ledger lacks.
        _time.Advance(TimeSpan.FromMinutes(2) - (_time.GetUtcNow() - resentAt) + TimeSpan.FromSeconds(1));
        var held = await DecidedAsync();
        Assert.Equal("held", (string)(await BccAsync(held))["state"]!);
        var reason = (string)(await HealthAsync())["reasons"]!["audit-ledger"]!;
        Assert.StartsWith("Releases are held", reason, StringComparison.Ordinal);
        Assert.Contains($"The oldest unconfirmed is PackageReleased {lost}, published ", reason, StringComparison.Ordinal);
        Assert.DoesNotContain(first.ToString(), reason, StringComparison.Ordinal);
        await Eventually.UntilAsync(() =>
        {
            _time.Advance(TimeSpan.FromSeconds(5));
            return Task.FromResult(Published(lost) == 3);
        }, TimeSpan.FromSeconds(30), () => $"the unconfirmed release was published {Published(lost)} time(s)", poll: TimeSpan.FromMilliseconds(50));

        // The ledger records it once and confirms it (with whatever else its group commit held): the hold clears by itself.
        await ConfirmEverythingAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        Assert.True(await Harness.Published.AnyEventAsync<PackageReleased>(m => m.PackageId == held, timeout.Token));
        Assert.Equal("released", (string)(await BccAsync(held))["state"]!);
        Assert.Equal("Healthy", (string)(await HealthAsync())["checks"]!["audit-ledger"]!);
    }

    [Theory]
    [InlineData(1, 60)]
    [InlineData(2, 120)]
    [InlineData(3, 240)]
    [InlineData(4, 300)]
    [InlineData(1000, 300)]
    public void The_wait_before_a_re_send_doubles_up_to_the_cap(int published, int seconds) =>
        Assert.Equal(TimeSpan.FromSeconds(seconds), Release.ResendLoop.Backoff(published, TimeSpan.FromMinutes(1), TimeSpan.FromMinutes(5)));
}
