using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;
using TOEX.Sharing.Cli.Tests;
using TOEX.Sharing.Sealing;
using TOEX.Sharing.Testing;

namespace TOEX.Sharing.EndToEnd.Tests;

/// <summary>
/// Push delivery, retries and recall with the gateway, PolicyDecision and the audit worker as processes on a
/// real RabbitMQ, the partners' endpoints real HTTP receivers, and every step checked in the audit ledger.
/// </summary>
public sealed class DeliveryTests(PushServices services) : IClassFixture<PushServices>
{
    private RunningServices Stack => services.Stack;

    private async Task<Guid> SubmitAsync(string file)
    {
        using var client = Stack.Client(Stack.Gateway, "rocu-wm", "Packages.Submit");
        var json = await File.ReadAllTextAsync(Path.Combine(RepoPaths.Root, "deploy", "samples", file));
        var response = await client.PostAsync("/api/v1/packages", new StringContent(json, Encoding.UTF8, "application/json"));
        Assert.True(response.StatusCode == HttpStatusCode.Accepted, $"{file}: {response.StatusCode} {await response.Content.ReadAsStringAsync()}");
        return Guid.Parse((string)(await RunningServices.ReadJsonAsync(response))["id"]!);
    }

    private Task<JsonObject> RecipientWhenAsync(Guid id, string partner, Func<JsonObject, bool> condition, string what) =>
        Stack.EventuallyAsync(async () =>
        {
            using var client = Stack.Client(Stack.Gateway, "rocu-wm", "Packages.Submit");
            var status = await client.GetFromJsonAsync<JsonObject>($"/api/v1/packages/{id}");
            var recipient = status?["recipients"]?.AsArray().SingleOrDefault(r => (string)r!["partner"]! == partner)?.AsObject();
            return recipient is not null && condition(recipient) ? recipient : null;
        }, what);

    private async Task<JsonArray> LedgerWhenAsync(Guid id, Func<JsonArray, bool> condition, string what)
    {
        JsonArray? last = null;
        try
        {
            return await Stack.EventuallyAsync(async () =>
            {
                using var auditor = Stack.Client(Stack.Audit, "rocu-wm", "Audit.Read");
                // Every page: status reads are recorded as consultations of the package too.
                var all = new JsonArray();
                string? after = null;
                do
                {
                    var page = (await auditor.GetFromJsonAsync<JsonObject>($"/api/v1/audit/entries?package={id}&limit=500{(after is null ? "" : "&after=" + after)}"))!;
                    foreach (var entry in page["items"]!.AsArray().Where(e => (string)e!["type"]! != "consultation"))
                    {
                        all.Add(entry!.DeepClone());
                    }
                    after = page["next"]?.ToString();
                }
                while (after is not null);
                last = all;
                return condition(last) ? last : null;
            }, what);
        }
        catch (TimeoutException e)
        {
            var seen = last is null ? "nothing" : string.Join(", ", last.Select(x => $"{(string)x!["type"]!}/{(string?)x["partner"]}"));
            throw new TimeoutException($"The ledger held: {seen}", e);
        }
    }

    private static IEnumerable<JsonNode> OfType(JsonArray entries, string type, string? partner = null) =>
        entries.Where(e => (string)e!["type"]! == type && (partner is null || (string?)e["partner"] == partner))!;

    [Fact]
    public async Task A_receiver_that_fails_three_times_gets_one_package_and_the_ledger_shows_three_failed_attempts_with_one_webhook_id()
    {
        var bcc = services.Receivers["bcc-childrens"];
        bcc.Respond = (context, n) =>
        {
            context.Response.StatusCode = n <= 3 ? StatusCodes.Status500InternalServerError : StatusCodes.Status200OK;
            return Task.CompletedTask;
        };

        var id = await SubmitAsync("rocuwm-2026-000123.json");

        await bcc.WaitForRequestAsync(4);
        var recipient = await RecipientWhenAsync(id, "bcc-childrens",
            r => (string?)r["delivery"]?["push"]?["state"] == "delivered", "bcc-childrens' push to be delivered");
        var webhookId = (string)recipient["delivery"]!["push"]!["webhookId"]!;
        var entries = await LedgerWhenAsync(id, e => OfType(e, "webhook-delivered").Any(), "the delivery in the ledger");

        Assert.Equal(4, bcc.Count);
        Assert.All(bcc.Requests, r => Assert.Equal(webhookId, r.Id));
        var jwks = await new HttpClient { BaseAddress = Stack.Gateway }.GetStringAsync("/.well-known/webhook-jwks.json");
        Assert.All(bcc.Requests, r => StandardWebhook.Verify(r.Id, r.Timestamp, r.Signature, r.Body, jwks));
        var failed = OfType(entries, "webhook-attempt-failed", "bcc-childrens").ToList();
        Assert.Equal(3, failed.Count);
        Assert.All(failed, e => Assert.StartsWith($"webhook {webhookId} attempt ", (string)e["justification"]!, StringComparison.Ordinal));
        var delivered = Assert.Single(OfType(entries, "webhook-delivered", "bcc-childrens"));
        Assert.StartsWith($"webhook {webhookId} accepted with 200 on attempt 4", (string)delivered["justification"]!, StringComparison.Ordinal);
        Assert.Single(OfType(entries, "release", "bcc-childrens"));
        // The copy the receiver got opens with bcc-childrens' key.
        var body = JsonNode.Parse(bcc.Requests[^1].Body)!;
        var opened = PackageOpener.Open((string)body["data"]!["sealed"]!, Stack.PartnerPrivateKeys["bcc-childrens"], await Stack.BrokerJwksAsync());
        Assert.Equal("ROCUWM-2026-000123", (string)JsonNode.Parse(opened)!["package"]!["reference"]!);
    }

    [Fact]
    public async Task A_recall_notifies_every_recipient_that_received_the_package_withdraws_it_from_the_one_that_had_not_and_the_ledger_shows_each_step()
    {
        // wmp (push) accepts; nca (pull) reads its feed; staffs (push) is down.
        var wmp = services.Receivers["wmp"];
        wmp.Respond = (context, n) => n == 1 ? Task.CompletedTask : context.Response.WriteAsJsonAsync(new { acknowledged = true });
        var id = await SubmitAsync("rocuwm-2026-000124.json");
        await RecipientWhenAsync(id, "wmp", r => (string?)r["delivery"]?["push"]?["state"] == "delivered", "wmp's push to be delivered");
        await RecipientWhenAsync(id, "staffs", r => (int?)r["delivery"]?["push"]?["attempts"] >= 1, "a first failed push to staffs");
        using var nca = Stack.Client(Stack.Gateway, "nca", "Feed.Read");
        var ncaFeed = await Stack.EventuallyAsync(async () =>
        {
            var items = (await nca.GetFromJsonAsync<JsonObject>("/api/v1/feed?limit=500"))!["items"]!.AsArray();
            return items.Any(i => Guid.Parse((string)i!["packageId"]!) == id) ? items : null;
        }, "nca's feed to hold the package");
        var cursor = (string)ncaFeed.Last()!["cursor"]!;

        using var originator = Stack.Client(Stack.Gateway, "rocu-wm", "Packages.Submit");
        var recall = await originator.PostAsync($"/api/v1/packages/{id}/recall",
            new StringContent("""{"reason":"Source withdrew the report: the address is wrong."}""", Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.Accepted, recall.StatusCode);
        var accepted = await RunningServices.ReadJsonAsync(recall);
        // staffs is withdrawn at once, or (if a failing attempt was under way) as soon as that attempt ends.
        var staffsStatus = await RecipientWhenAsync(id, "staffs", r => (string?)r["recall"]?["action"] == "withdrawn", "staffs' withdrawal");
        // staffs' endpoint comes back: it must still never receive the package.
        await using var staffsBack = await WebhookReceiver.StartAsync(services.StaffsPort);

        // wmp gets a signed, sealed notice by push, and acknowledges it in its answer.
        var notice = await wmp.WaitForRequestAsync(2);
        var jwks = await new HttpClient { BaseAddress = Stack.Gateway }.GetStringAsync("/.well-known/webhook-jwks.json");
        StandardWebhook.Verify(notice.Id, notice.Timestamp, notice.Signature, notice.Body, jwks);
        var noticeBody = JsonNode.Parse(notice.Body)!;
        var opened = JsonNode.Parse(PackageOpener.Open((string)noticeBody["data"]!["sealed"]!, Stack.PartnerPrivateKeys["wmp"], await Stack.BrokerJwksAsync()))!;
        // nca finds the notice on its feed (sealed with its RSA key) and acknowledges it there.
        var recallItem = (await nca.GetFromJsonAsync<JsonObject>($"/api/v1/feed?after={cursor}"))!["items"]!.AsArray()
            .Single(i => Guid.Parse((string)i!["packageId"]!) == id)!;
        var ncaNotice = JsonNode.Parse(PackageOpener.Open((string)recallItem["sealed"]!, Stack.PartnerPrivateKeys["nca"], await Stack.BrokerJwksAsync()))!;
        var ncaAck = await nca.PostAsync($"/api/v1/feed/{id}/ack?kind=recall", null);
        var wmpStatus = await RecipientWhenAsync(id, "wmp", r => r["recall"]?["acknowledgedAt"] is not null, "wmp's acknowledgement of the recall");
        var ncaStatus = await RecipientWhenAsync(id, "nca", r => r["recall"]?["acknowledgedAt"] is not null, "nca's acknowledgement of the recall");
        using var staffs = Stack.Client(Stack.Gateway, "staffs", "Feed.Read");
        var staffsFeed = (await staffs.GetFromJsonAsync<JsonObject>("/api/v1/feed?limit=500"))!["items"]!.AsArray();
        var entries = await LedgerWhenAsync(id, e => OfType(e, "recall-acknowledgement").Count() == 2
            && OfType(e, "recall-notice").Count() == 2 && OfType(e, "webhook-delivered", "wmp").Count() == 2, "the recall's steps in the ledger");

        Assert.Equal(["wmp", "nca"], accepted["notified"]!.AsArray().Select(n => (string)n!));
        Assert.Equal(["staffs"], accepted["withdrawn"]!.AsArray().Concat(accepted["pending"]!.AsArray()).Select(n => (string)n!));
        Assert.Equal(("package.recalled", "recall", id), ((string)noticeBody["type"]!, (string)opened["kind"]!, Guid.Parse((string)opened["packageId"]!)));
        Assert.Equal(("recall", "recall"), ((string)recallItem["kind"]!, (string)ncaNotice["kind"]!));
        Assert.Equal(HttpStatusCode.NoContent, ncaAck.StatusCode);
        Assert.Equal("notified", (string)wmpStatus["recall"]!["action"]!);
        Assert.Equal("notified", (string)ncaStatus["recall"]!["action"]!);
        Assert.Equal(("withdrawn", "cancelled"), ((string)staffsStatus["delivery"]!["state"]!, (string)staffsStatus["delivery"]!["push"]!["state"]!));
        Assert.DoesNotContain(staffsFeed, i => Guid.Parse((string)i!["packageId"]!) == id);
        Assert.Equal(0, staffsBack.Count);

        var recallEntry = Assert.Single(OfType(entries, "recall"));
        Assert.Equal("Source withdrew the report: the address is wrong.", (string)recallEntry["justification"]!);
        Assert.Equal(["nca", "wmp"], OfType(entries, "recall-notice").Select(e => (string)e["partner"]!).Order());
        Assert.Equal(["nca", "wmp"], OfType(entries, "recall-acknowledgement").Select(e => (string)e["partner"]!).Order());
        Assert.Equal(3, OfType(entries, "release").Count());
        Assert.Empty(OfType(entries, "webhook-delivered", "staffs"));
        Assert.NotEmpty(OfType(entries, "webhook-attempt-failed", "staffs"));
        Assert.Empty(OfType(entries, "recall-notice", "staffs"));

        // toex audit reconcile counts each recall notice as the release it is (it has its recall-notice entry).
        var reconciled = await Stack.EventuallyAsync(async () =>
        {
            var run = await Toex.RunAsync("audit", "reconcile", "--gateway", Stack.Gateway.ToString(), "--audit", Stack.Audit.ToString(),
                "--token", Stack.Token("rocu-wm", "ig-officer-1", "Audit.Read"));
            return run.ExitCode == 0 ? run : null;
        }, "toex audit reconcile to find every release (recall notices included) in the ledger");
        Assert.Matches(@"\(([2-9]|\d\d+) recall notices\).* 0 release\(s\) without an entry", reconciled.Output);
    }

    [Fact]
    public async Task The_sample_receiver_verifies_opens_and_acknowledges_a_pushed_package_and_its_recall()
    {
        var port = FreePort.Next();
        File.WriteAllText(Path.Combine(Stack.PartnerKeysDirectory, "safe-haven.webhook.json"),
            new JsonObject { ["endpoint"] = $"http://127.0.0.1:{port}/hooks/safe-haven", ["localDevelopment"] = true }.ToJsonString());
        // toex is built beside the services, in the same configuration.
        var toex = Path.Combine(Path.GetDirectoryName(ChildProcess.BuiltServicePath("TOEX.Sharing.Gateway"))!
            .Replace(Path.Combine("TOEX.Sharing.Gateway", "bin"), Path.Combine("TOEX.Sharing.Cli", "bin"), StringComparison.Ordinal), "toex.dll");
        // The services' clock starts at a fixed instant (Clock:StartsAt); the receiver's timestamp check allows for it.
        await using var receiver = ChildProcess.StartDotnet(toex, arguments:
            ["webhook", "listen", "--gateway", Stack.Gateway.ToString(), "--port", port.ToString(System.Globalization.CultureInfo.InvariantCulture),
             "--keys", Stack.PartnerKeysDirectory, "--partner", "safe-haven", "--ack", "--tolerance", "31536000"], name: "toex webhook listen");
        await receiver.WaitForOutputAsync("Receiving webhooks for safe-haven", TimeSpan.FromSeconds(60));

        var id = await SubmitAsync("rocuwm-2026-000125.json");
        await receiver.WaitForOutputAsync($"--- safe-haven: webhook", TimeSpan.FromSeconds(60));
        var delivered = await RecipientWhenAsync(id, "safe-haven", r => (string?)r["delivery"]?["push"]?["state"] == "delivered", "safe-haven's push to be delivered");
        using var originator = Stack.Client(Stack.Gateway, "rocu-wm", "Packages.Submit");
        var recall = await originator.PostAsync($"/api/v1/packages/{id}/recall",
            new StringContent("""{"reason":"Sent in error."}""", Encoding.UTF8, "application/json"));
        await receiver.WaitForOutputAsync($"--- safe-haven: acknowledged the recall of {id}", TimeSpan.FromSeconds(60));
        var acknowledged = await RecipientWhenAsync(id, "safe-haven", r => r["recall"]?["acknowledgedAt"] is not null, "the receiver's acknowledgement of the recall");

        Assert.Equal(HttpStatusCode.Accepted, recall.StatusCode);
        Assert.Contains(receiver.RecentOutput(), line => line.Contains("\"reference\": \"ROCUWM-2026-000125\"", StringComparison.Ordinal));
        Assert.Equal(1, (int)delivered["delivery"]!["push"]!["attempts"]!);
        Assert.Equal("notified", (string)acknowledged["recall"]!["action"]!);
    }
}
