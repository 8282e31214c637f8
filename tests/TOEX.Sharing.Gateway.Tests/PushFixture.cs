using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using TOEX.Sharing.Contracts;
using TOEX.Sharing.Gateway.Data;
using TOEX.Sharing.Gateway.Core;
using TOEX.Sharing.Gateway.Delivery;
using TOEX.Sharing.Sealing;
using TOEX.Sharing.Testing;

namespace TOEX.Sharing.Gateway.Tests;

/// <summary>
/// The gateway in process on a fake clock, with bcc-childrens (a push partner) registered at a real Kestrel
/// receiver on loopback. Retries are driven by advancing the clock; nothing sleeps.
/// </summary>
public sealed class PushFixture : IAsyncDisposable
{
    public FakeTimeProvider Clock { get; } = new(GatewayFactory.At);
    public GatewayFactory Gateway { get; }
    public LocalKeyRing DecisionKeys { get; }
    public string BccKey { get; }
    public WebhookReceiver Receiver { get; private set; } = null!;

    private PushFixture(StoreKind store, Dictionary<string, string?> settings)
    {
        Gateway = new GatewayFactory(store: store) { Time = Clock };
        Gateway.Settings["Gateway:Webhooks:FirstRetryDelay"] = "00:00:10";
        Gateway.Settings["Gateway:Webhooks:MaxRetryDelay"] = "01:00:00";
        Gateway.Settings["Gateway:Webhooks:Jitter"] = "0";
        foreach (var (key, value) in settings)
        {
            Gateway.Settings[key] = value;
        }
        DecisionKeys = Gateway.TrustDecisionKeys();
        BccKey = Gateway.RegisterPartnerKey("bcc-childrens");
        Gateway.RegisterPartnerKey("wmp");
    }

    public static async Task<PushFixture> StartAsync(StoreKind store, Dictionary<string, string?>? settings = null, bool registerReceiver = true)
    {
        var fixture = new PushFixture(store, settings ?? []);
        fixture.Receiver = await WebhookReceiver.StartAsync();
        if (registerReceiver)
        {
            fixture.Gateway.RegisterWebhook("bcc-childrens", fixture.Receiver.Url);
        }
        return fixture;
    }

    /// <summary>Submits the example package (a permit for bcc-childrens, with the acknowledge obligation) and delivers its decision.</summary>
    public async Task<Guid> ReleaseExampleAsync()
    {
        var (id, submitted) = await Gateway.SubmitAsync(Packages.Example());
        await DeliverDecisionAsync(id, submitted);
        return id;
    }

    public Task DeliverDecisionAsync(Guid id, PackageSubmitted submitted) =>
        Gateway.DeliverAsync(new SharingDecided { PackageId = id, DecisionJws = new DecisionSigner(DecisionKeys.Current).Sign(GatewayFactory.Decide(submitted)) });

    public async Task<JsonObject> StatusAsync(Guid id) =>
        (await Gateway.ClientFor("rocu-wm", "Packages.Submit").GetFromJsonAsync<JsonObject>($"/api/v1/packages/{id}"))!;

    /// <summary>bcc-childrens' entry in the package status.</summary>
    public async Task<JsonObject> RecipientAsync(Guid id, string partner = "bcc-childrens") =>
        (await StatusAsync(id))["recipients"]!.AsArray().Single(r => (string)r!["partner"]! == partner)!.AsObject();

    /// <summary>Waits until bcc-childrens' status satisfies <paramref name="condition"/>; fails with the last status seen.</summary>
    public Task<JsonObject> RecipientWhenAsync(Guid id, Func<JsonObject, bool> condition, string what, string partner = "bcc-childrens")
    {
        JsonObject? last = null;
        return Eventually.ValueAsync(async () => condition(last = await RecipientAsync(id, partner)) ? last : null, TimeSpan.FromSeconds(60),
            () => $"Timed out waiting for {what}; last status: {last?.ToJsonString()}", poll: TimeSpan.FromMilliseconds(20));
    }

    public static int Attempts(JsonObject recipient) => (int)recipient["delivery"]!["push"]!["attempts"]!;

    public static string PushState(JsonObject recipient) => (string)recipient["delivery"]!["push"]!["state"]!;

    /// <summary>Moves the clock on and wakes the dispatcher, which then sends whatever fell due.</summary>
    public void Advance(TimeSpan by)
    {
        Clock.Advance(by);
        Gateway.Services.GetRequiredService<WebhookSignal>().Notify();
    }

    /// <summary>The events of type <typeparamref name="T"/> the gateway recorded for publishing, in order.</summary>
    public async Task<List<T>> EventsAsync<T>()
    {
        await using var scope = Gateway.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<GatewayDb>();
        var bodies = await db.Outbox.Where(o => o.MessageType == typeof(T).Name).OrderBy(o => o.Sequence).Select(o => o.Body).ToListAsync();
        return [.. bodies.Select(ToexJson.Deserialize<T>)];
    }

    public async Task<string> WebhookJwksAsync() => await Gateway.CreateClient().GetStringAsync("/.well-known/webhook-jwks.json");

    public async ValueTask DisposeAsync()
    {
        await Receiver.DisposeAsync();
        DecisionKeys.Dispose();
        await Gateway.DisposeAsync();
    }
}
