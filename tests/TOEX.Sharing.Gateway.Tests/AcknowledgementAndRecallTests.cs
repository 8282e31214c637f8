using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using TOEX.Sharing.Contracts;
using TOEX.Sharing.Gateway.Data;
using TOEX.Sharing.Gateway.Core;
using TOEX.Sharing.Gateway.Release;
using TOEX.Sharing.Sealing;
using TOEX.Sharing.Testing;

namespace TOEX.Sharing.Gateway.Tests;

/// <summary>Acknowledgements (in a push answer or on the feed), their deadline, and recall before and after delivery.</summary>
public abstract class AcknowledgementAndRecallTests(StoreKind store)
{
    private static JsonObject Reason(string reason = "The intelligence was wrong: the child is safe.") => new() { ["reason"] = reason };

    private static async Task<HttpResponseMessage> RecallAsync(PushFixture push, Guid id, JsonObject? body = null, string organisation = "rocu-wm") =>
        await push.Gateway.ClientFor(organisation, "Packages.Submit").PostAsync($"/api/v1/packages/{id}/recall", Packages.Json(body ?? Reason()));

    private static async Task<JsonArray> FeedAsync(PushFixture push, string partner) =>
        (await push.Gateway.ClientFor(partner, "Feed.Read").GetFromJsonAsync<JsonObject>("/api/v1/feed"))!["items"]!.AsArray();

    [Fact]
    public async Task Records_the_acknowledgement_a_push_answer_carries()
    {
        await using var push = await PushFixture.StartAsync(store);
        push.Receiver.Respond = (context, _) => context.Response.WriteAsJsonAsync(new { acknowledged = true });

        var id = await push.ReleaseExampleAsync();
        var recipient = await push.RecipientWhenAsync(id, r => (string)r["delivery"]!["state"]! == "acknowledged", "the push answer to acknowledge");

        Assert.NotNull(recipient["delivery"]!["acknowledgement"]!["acknowledgedAt"]);
        var acknowledged = Assert.Single(await push.EventsAsync<PackageAcknowledged>());
        Assert.Equal(("bcc-childrens", "package", "push"), (acknowledged.Recipient, acknowledged.Kind, acknowledged.Channel));
    }

    [Fact]
    public async Task Shows_an_unacknowledged_package_overdue_after_the_deadline_and_raises_an_event_once()
    {
        await using var push = await PushFixture.StartAsync(store, new() { ["Gateway:AcknowledgementDeadline"] = "01:00:00" });

        var id = await push.ReleaseExampleAsync();
        var delivered = await push.RecipientWhenAsync(id, r => PushFixture.PushState(r) == "delivered", "the push to deliver");
        push.Advance(TimeSpan.FromMinutes(59));
        var early = await push.RecipientAsync(id);
        push.Advance(TimeSpan.FromMinutes(1));
        var overdue = await push.RecipientWhenAsync(id, r => (bool)r["delivery"]!["acknowledgement"]!["overdue"]!, "the package to fall overdue");
        push.Advance(TimeSpan.FromHours(5));
        var ack = await push.Gateway.ClientFor("bcc-childrens", "Feed.Read").PostAsync($"/api/v1/feed/{id}/ack", null);
        var acknowledged = await push.RecipientAsync(id);

        var acknowledgement = delivered["delivery"]!["acknowledgement"]!;
        Assert.True((bool)acknowledgement["required"]!);
        Assert.Equal(GatewayFactory.At.AddHours(1), DateTimeOffset.Parse((string)acknowledgement["dueAt"]!, System.Globalization.CultureInfo.InvariantCulture));
        Assert.False((bool)early["delivery"]!["acknowledgement"]!["overdue"]!);
        Assert.Equal("delivered", (string)overdue["delivery"]!["state"]!);
        var raised = Assert.Single(await push.EventsAsync<AcknowledgementOverdue>());
        Assert.Equal(("bcc-childrens", "rocu-wm", GatewayFactory.At.AddHours(1)), (raised.Recipient, raised.Originator, raised.DueAt));
        Assert.Equal(HttpStatusCode.NoContent, ack.StatusCode);
        Assert.Equal("acknowledged", (string)acknowledged["delivery"]!["state"]!);
        Assert.False((bool)acknowledged["delivery"]!["acknowledgement"]!["overdue"]!);
    }

    [Fact]
    public async Task A_release_prepared_before_a_recall_committed_is_refused_so_the_recipient_never_gets_the_package()
    {
        await using var push = await PushFixture.StartAsync(store);
        var (id, submitted) = await push.Gateway.SubmitAsync(Packages.Example());
        var permit = GatewayFactory.Decide(submitted).Decisions.Single(d => d.Recipient == "bcc-childrens");

        // The gateway has read the package and prepared bcc-childrens' copy on that reading, as a decision does...
        await using var scope = push.Gateway.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<GatewayDb>();
        var releaser = scope.ServiceProvider.GetRequiredService<Releaser>();
        var submission = await db.Submissions.AsNoTracking().Include(s => s.Recipients).SingleAsync(s => s.Id == id);
        var read = submission.Version;
        var state = submission.Recipients.Single(r => r.Partner == "bcc-childrens");
        Assert.True(await releaser.ReleaseAsync(submission, permit, "sha256:policy", state, "policy-decision", null, CancellationToken.None));

        // ...when the originator's recall commits first.
        var recall = await RecallAsync(push, id);
        Assert.Equal(HttpStatusCode.Accepted, recall.StatusCode);

        // The prepared release, handed to the gateway's writer as written on the version it read, is refused by that version.
        var writer = push.Gateway.Services.GetRequiredService<GatewayWriter>();
        await Assert.ThrowsAsync<DbUpdateConcurrencyException>(() => writer.WriteAsync(async (target, token) =>
        {
            var entry = target.Attach(submission);
            entry.State = EntityState.Modified;
            entry.Property(s => s.Version).OriginalValue = read;
            target.Entry(state).State = EntityState.Modified;
            await releaser.WriteAsync(target, token);
        }, CancellationToken.None));
        Assert.Empty(await FeedAsync(push, "bcc-childrens"));
        var recipient = await push.RecipientAsync(id);
        Assert.Equal("withheld", (string)recipient["delivery"]!["state"]!);
        Assert.Equal("recalled", (string)(await push.StatusAsync(id))["status"]!);
    }

    [Fact]
    public async Task Recall_after_delivery_pushes_a_signed_sealed_notice_and_records_its_acknowledgement()
    {
        await using var push = await PushFixture.StartAsync(store);
        var id = await push.ReleaseExampleAsync();
        await push.RecipientWhenAsync(id, r => PushFixture.PushState(r) == "delivered", "the package to be delivered");

        var recall = await RecallAsync(push, id);
        var notice = await push.Receiver.WaitForRequestAsync(2);
        var notified = await push.RecipientWhenAsync(id, r => r["recall"]?["push"]?["state"]?.GetValue<string>() == "delivered", "the notice to be delivered");
        var ack = await push.Gateway.ClientFor("bcc-childrens", "Feed.Read").PostAsync($"/api/v1/feed/{id}/ack?kind=recall", null);
        var status = await push.StatusAsync(id);

        Assert.Equal(HttpStatusCode.Accepted, recall.StatusCode);
        var accepted = (await recall.Content.ReadFromJsonAsync<JsonObject>())!;
        Assert.Equal(["bcc-childrens"], accepted["notified"]!.AsArray().Select(n => (string)n!));
        Assert.Empty(accepted["withdrawn"]!.AsArray());
        StandardWebhook.Verify(notice.Id, notice.Timestamp, notice.Signature, notice.Body, await push.WebhookJwksAsync());
        Assert.NotEqual(push.Receiver.Requests[0].Id, notice.Id);
        var body = JsonNode.Parse(notice.Body)!;
        Assert.Equal(("package.recalled", "recall"), ((string)body["type"]!, (string)body["data"]!["kind"]!));
        var brokerJwks = await push.Gateway.CreateClient().GetStringAsync("/.well-known/jwks.json");
        var opened = JsonNode.Parse(PackageOpener.Open((string)body["data"]!["sealed"]!, push.BccKey, brokerJwks))!;
        Assert.Equal(("recall", id, "The intelligence was wrong: the child is safe."),
            ((string)opened["kind"]!, Guid.Parse((string)opened["packageId"]!), (string)opened["reason"]!));
        Assert.Equal("notified", (string)notified["recall"]!["action"]!);
        Assert.Equal(HttpStatusCode.NoContent, ack.StatusCode);
        Assert.Equal("recalled", (string)status["status"]!);
        Assert.Equal("The intelligence was wrong: the child is safe.", (string)status["recall"]!["reason"]!);
        Assert.NotNull(status["recipients"]![0]!["recall"]!["acknowledgedAt"]);
        // Once the recipient has its recall notice, the recalled copy is no longer served from its feed.
        Assert.Equal(["recall"], (await FeedAsync(push, "bcc-childrens")).Select(i => (string)i!["kind"]!));
        var recalled = Assert.Single(await push.EventsAsync<PackageRecalled>());
        Assert.Equal(["bcc-childrens"], recalled.Notified);
        Assert.Contains(await push.EventsAsync<PackageReleased>(), r => r.Kind == "recall" && r.Recipient == "bcc-childrens");
        Assert.Contains(await push.EventsAsync<PackageAcknowledged>(), a => a.Kind == "recall");
    }

    [Fact]
    public async Task Recall_before_delivery_withdraws_the_package_so_the_partner_never_receives_it()
    {
        var port = FreePort.Next();
        await using var push = await PushFixture.StartAsync(store, registerReceiver: false);
        push.Gateway.RegisterWebhook("bcc-childrens", new Uri($"http://127.0.0.1:{port}/hooks"));
        var id = await push.ReleaseExampleAsync();
        await push.RecipientWhenAsync(id, r => PushFixture.Attempts(r) == 1, "the first attempt to fail (the partner is down)");

        var recall = await RecallAsync(push, id);
        await using var partnerBack = await WebhookReceiver.StartAsync(port);
        push.Advance(TimeSpan.FromHours(25));
        var feed = await FeedAsync(push, "bcc-childrens");
        var ack = await push.Gateway.ClientFor("bcc-childrens", "Feed.Read").PostAsync($"/api/v1/feed/{id}/ack", null);
        var retry = await push.Gateway.ClientFor("toex-operations", "Deliveries.Operate").PostAsync($"/api/v1/packages/{id}/deliveries/bcc-childrens/retry", null);
        var recipient = await push.RecipientAsync(id);

        var accepted = (await recall.Content.ReadFromJsonAsync<JsonObject>())!;
        Assert.Equal(["bcc-childrens"], accepted["withdrawn"]!.AsArray().Select(n => (string)n!));
        Assert.Empty(accepted["notified"]!.AsArray());
        Assert.Empty(feed);
        Assert.Equal(HttpStatusCode.NotFound, ack.StatusCode);
        Assert.Equal(HttpStatusCode.Conflict, retry.StatusCode);
        Assert.Equal(0, partnerBack.Count);
        Assert.Equal(("withdrawn", "cancelled"), ((string)recipient["delivery"]!["state"]!, PushFixture.PushState(recipient)));
        Assert.Equal("withdrawn", (string)recipient["recall"]!["action"]!);
        Assert.DoesNotContain(await push.EventsAsync<PackageReleased>(), r => r.Kind == "recall");
        Assert.Empty(await push.EventsAsync<WebhookDelivered>());
    }

    [Theory]
    [InlineData(500, "withdrawn")]
    [InlineData(200, "notified")]
    public async Task A_recall_during_a_push_attempt_waits_for_it_and_notifies_only_if_it_was_accepted(int answer, string action)
    {
        await using var push = await PushFixture.StartAsync(store);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        push.Receiver.Respond = async (context, n) =>
        {
            if (n == 1)
            {
                // The first push hangs until the recall has been answered.
                await release.Task;
                context.Response.StatusCode = answer;
            }
        };
        var id = await push.ReleaseExampleAsync();
        await push.Receiver.WaitForRequestAsync(1);

        var recall = await RecallAsync(push, id);
        var accepted = (await recall.Content.ReadFromJsonAsync<JsonObject>())!;
        release.SetResult();
        var settled = await push.RecipientWhenAsync(id, r => (string?)r["recall"]?["action"] != "pending", "the recall to be settled");
        push.Advance(TimeSpan.FromHours(25));
        var feed = await FeedAsync(push, "bcc-childrens");

        Assert.Equal(["bcc-childrens"], accepted["pending"]!.AsArray().Select(n => (string)n!));
        Assert.Equal(action, (string)settled["recall"]!["action"]!);
        if (action == "notified")
        {
            var notice = await push.Receiver.WaitForRequestAsync(2);
            Assert.Equal("package.recalled", (string)JsonNode.Parse(notice.Body)!["type"]!);
            Assert.Equal(["recall"], feed.Select(i => (string)i!["kind"]!));
        }
        else
        {
            Assert.Equal(("withdrawn", "cancelled"), ((string)settled["delivery"]!["state"]!, PushFixture.PushState(settled)));
            Assert.Empty(feed);
            Assert.Equal(1, push.Receiver.Count);
            Assert.Empty(await push.EventsAsync<WebhookDelivered>());
        }
    }

    [Fact]
    public async Task A_recall_of_a_push_whose_gateway_died_mid_attempt_is_settled_and_the_package_is_never_pushed_after_it()
    {
        var port = FreePort.Next();
        await using var push = await PushFixture.StartAsync(store, registerReceiver: false);
        push.Gateway.RegisterWebhook("bcc-childrens", new Uri($"http://127.0.0.1:{port}/hooks"));
        var id = await push.ReleaseExampleAsync();
        await push.RecipientWhenAsync(id, r => PushFixture.Attempts(r) == 1, "the first attempt to fail (the partner is down)");
        // Another gateway claims the retry and dies in the middle of its attempt: the push is left under way.
        await using (var scope = push.Gateway.Services.CreateAsyncScope())
        {
            var lease = push.Clock.GetUtcNow().AddMinutes(1).ToUnixTimeMilliseconds();
            await scope.ServiceProvider.GetRequiredService<GatewayDb>().Webhooks.Where(w => w.PackageId == id && w.Recipient == "bcc-childrens")
                .ExecuteUpdateAsync(w => w.SetProperty(x => x.State, PushState.Sending).SetProperty(x => x.LeaseUntilUnixMs, lease));
        }

        var recall = await RecallAsync(push, id);
        var accepted = (await recall.Content.ReadFromJsonAsync<JsonObject>())!;
        await using var partnerBack = await WebhookReceiver.StartAsync(port);
        push.Advance(TimeSpan.FromMinutes(2));
        var settled = await push.RecipientWhenAsync(id, r => (string?)r["recall"]?["action"] != "pending", "the recall to be settled");
        var notice = await partnerBack.WaitForRequestAsync(1);
        push.Advance(TimeSpan.FromHours(25));

        Assert.Equal(["bcc-childrens"], accepted["pending"]!.AsArray().Select(n => (string)n!));
        // Whether the dead gateway's attempt reached the partner is unknown: it is sent the recall notice, never the package again.
        Assert.Equal("notified", (string)settled["recall"]!["action"]!);
        Assert.Equal("cancelled", PushFixture.PushState(settled));
        Assert.Equal("package.recalled", (string)JsonNode.Parse(notice.Body)!["type"]!);
        Assert.DoesNotContain(partnerBack.Requests, r => (string)JsonNode.Parse(r.Body)!["type"]! == "package.released");
        Assert.Equal(["recall"], (await FeedAsync(push, "bcc-childrens")).Select(i => (string)i!["kind"]!));
    }

    [Fact]
    public async Task A_package_recalled_before_its_decision_is_never_released()
    {
        await using var push = await PushFixture.StartAsync(store);
        var (id, submitted) = await push.Gateway.SubmitAsync(Packages.Example());

        var recall = await RecallAsync(push, id);
        await push.DeliverDecisionAsync(id, submitted);
        push.Advance(TimeSpan.FromMinutes(1));
        var status = await push.StatusAsync(id);

        Assert.Equal(HttpStatusCode.Accepted, recall.StatusCode);
        Assert.Equal("recalled", (string)status["status"]!);
        Assert.All(status["recipients"]!.AsArray(), r => Assert.Equal("withheld", (string)r!["delivery"]!["state"]!));
        Assert.Empty(await FeedAsync(push, "bcc-childrens"));
        Assert.Equal(0, push.Receiver.Count);
        Assert.Empty(await push.EventsAsync<PackageReleased>());
    }

    [Fact]
    public async Task Refuses_a_recall_without_a_reason_or_by_another_organisation()
    {
        await using var push = await PushFixture.StartAsync(store);
        var id = await push.ReleaseExampleAsync();

        var noReason = await RecallAsync(push, id, new JsonObject());
        var controlCharacters = await RecallAsync(push, id, Reason("Wrong\r\nX-Injected: yes"));
        var other = await RecallAsync(push, id, organisation: "wmp");
        var feedOnly = await push.Gateway.ClientFor("rocu-wm", "Feed.Read").PostAsync($"/api/v1/packages/{id}/recall", Packages.Json(Reason()));

        Assert.Equal(HttpStatusCode.BadRequest, noReason.StatusCode);
        Assert.Contains("reason", (await noReason.Content.ReadFromJsonAsync<JsonObject>())!["errors"]!.AsObject().Select(e => e.Key));
        Assert.Equal(HttpStatusCode.BadRequest, controlCharacters.StatusCode);
        Assert.Contains("reason", (await controlCharacters.Content.ReadFromJsonAsync<JsonObject>())!["errors"]!.AsObject().Select(e => e.Key));
        Assert.Equal(HttpStatusCode.NotFound, other.StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, feedOnly.StatusCode);
        Assert.Empty(await push.EventsAsync<PackageRecalled>());
    }
}

public sealed class AcknowledgementAndRecallTestsOnSqlite() : AcknowledgementAndRecallTests(StoreKind.Sqlite);

public sealed class AcknowledgementAndRecallTestsOnPostgreSql() : AcknowledgementAndRecallTests(StoreKind.PostgreSql);
