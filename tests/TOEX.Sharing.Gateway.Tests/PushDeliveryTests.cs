using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;
using TOEX.Sharing.Contracts;
using TOEX.Sharing.Sealing;
using TOEX.Sharing.Testing;

namespace TOEX.Sharing.Gateway.Tests;

/// <summary>Push delivery (Standard Webhooks) to a real receiver on loopback, retries driven by a fake clock.</summary>
public abstract class PushDeliveryTests(StoreKind store)
{
    private static readonly TimeSpan TenSeconds = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task Pushes_the_sealed_package_signed_so_the_receiver_verifies_and_opens_it()
    {
        await using var push = await PushFixture.StartAsync(store);

        var id = await push.ReleaseExampleAsync();

        var request = await push.Receiver.WaitForRequestAsync(1);
        var recipient = await push.RecipientWhenAsync(id, r => PushFixture.PushState(r) == "delivered", "the push to be recorded delivered");
        StandardWebhook.Verify(request.Id, request.Timestamp, request.Signature, request.Body, await push.WebhookJwksAsync(),
            now: push.Clock.GetUtcNow());
        var body = JsonNode.Parse(request.Body)!;
        Assert.Equal("package.released", (string)body["type"]!);
        Assert.Equal(id, Guid.Parse((string)body["data"]!["packageId"]!));
        var brokerJwks = await push.Gateway.CreateClient().GetStringAsync("/.well-known/jwks.json");
        var copy = JsonNode.Parse(PackageOpener.Open((string)body["data"]!["sealed"]!, push.BccKey, brokerJwks))!;
        Assert.Equal("ROCUWM-2026-000123", (string)copy["package"]!["reference"]!);
        Assert.Equal((string)recipient["delivery"]!["push"]!["webhookId"]!, request.Id);
        Assert.Equal("delivered", (string)recipient["delivery"]!["state"]!);
        Assert.Equal("push", (string)recipient["delivery"]!["channel"]!);
        Assert.Equal(1, PushFixture.Attempts(recipient));
        // A tampered body does not verify.
        Assert.Throws<SealException>(() => StandardWebhook.Verify(request.Id, request.Timestamp, request.Signature,
            request.Body.Replace("package.released", "package.recalled", StringComparison.Ordinal), push.WebhookJwksAsync().Result));
    }

    [Fact]
    public async Task Retries_after_three_500s_and_delivers_once_with_the_same_webhook_id()
    {
        await using var push = await PushFixture.StartAsync(store);
        push.Receiver.Respond = (context, n) =>
        {
            context.Response.StatusCode = n <= 3 ? StatusCodes.Status500InternalServerError : StatusCodes.Status200OK;
            return Task.CompletedTask;
        };

        var id = await push.ReleaseExampleAsync();
        for (var attempt = 1; attempt <= 3; attempt++)
        {
            await push.Receiver.WaitForRequestAsync(attempt);
            var failed = await push.RecipientWhenAsync(id, r => PushFixture.Attempts(r) == attempt, $"attempt {attempt} to be recorded");
            Assert.Equal("pending", PushFixture.PushState(failed));
            // 10 s, then 20 s, then 40 s: the schedule doubles (no jitter in this test).
            var wait = TenSeconds * Math.Pow(2, attempt - 1);
            Assert.Equal(push.Clock.GetUtcNow() + wait, DateTimeOffset.Parse((string)failed["delivery"]!["push"]!["nextAttemptAt"]!, System.Globalization.CultureInfo.InvariantCulture));
            push.Advance(wait);
        }
        await push.Receiver.WaitForRequestAsync(4);
        var delivered = await push.RecipientWhenAsync(id, r => PushFixture.PushState(r) == "delivered", "the fourth attempt to deliver");

        Assert.Equal(4, push.Receiver.Count);
        Assert.Single(push.Receiver.Requests.Select(r => r.Id).Distinct());
        var webhookId = Guid.Parse(push.Receiver.Requests[0].Id!);
        var failures = await push.EventsAsync<WebhookAttemptFailed>();
        Assert.Equal([1, 2, 3], failures.Select(f => f.Attempt));
        Assert.All(failures, f => Assert.Equal((webhookId, 500), (f.WebhookId, f.StatusCode!.Value)));
        var deliveredEvent = Assert.Single(await push.EventsAsync<WebhookDelivered>());
        Assert.Equal((webhookId, 4), (deliveredEvent.WebhookId, deliveredEvent.Attempt));
        Assert.Equal(4, PushFixture.Attempts(delivered));
        Assert.Single(await push.EventsAsync<PackageReleased>());
    }

    [Fact]
    public async Task Gives_up_an_attempt_that_gets_no_answer_within_the_timeout_and_tries_again()
    {
        await using var push = await PushFixture.StartAsync(store, new() { ["Gateway:Webhooks:AttemptTimeout"] = "00:00:00.500" });
        push.Receiver.Respond = async (context, n) =>
        {
            if (n == 1)
            {
                // The first request hangs until the gateway gives up on it.
                await Task.Delay(Timeout.Infinite, context.RequestAborted).ContinueWith(_ => { }, TaskScheduler.Default);
            }
        };

        var id = await push.ReleaseExampleAsync();
        var failed = await push.RecipientWhenAsync(id, r => PushFixture.Attempts(r) == 1, "the first attempt to time out");
        push.Advance(TenSeconds);
        await push.Receiver.WaitForRequestAsync(2);
        await push.RecipientWhenAsync(id, r => PushFixture.Attempts(r) == 2, "the second attempt to be recorded");

        Assert.Contains("timeout", (string)failed["delivery"]!["push"]!["lastError"]!, StringComparison.Ordinal);
        var first = (await push.EventsAsync<WebhookAttemptFailed>())[0];
        Assert.Equal((1, null), (first.Attempt, first.StatusCode));
    }

    [Fact]
    public async Task Disables_the_endpoint_on_410_and_dead_letters_until_an_operator_retries()
    {
        await using var push = await PushFixture.StartAsync(store);
        push.Receiver.Respond = (context, n) =>
        {
            context.Response.StatusCode = n == 1 ? StatusCodes.Status410Gone : StatusCodes.Status200OK;
            return Task.CompletedTask;
        };

        var id = await push.ReleaseExampleAsync();
        var dead = await push.RecipientWhenAsync(id, r => PushFixture.PushState(r) == "dead-lettered", "the 410 to dead-letter the push");
        var disabled = Assert.Single(await push.EventsAsync<WebhookEndpointDisabled>());
        var operatorClient = push.Gateway.ClientFor("toex-operations", "Deliveries.Operate");
        var listed = await operatorClient.GetFromJsonAsync<JsonArray>("/api/v1/deliveries?state=dead-lettered");
        var notOperator = await push.Gateway.ClientFor("rocu-wm", "Packages.Submit").PostAsync($"/api/v1/packages/{id}/deliveries/bcc-childrens/retry", null);
        var retry = await operatorClient.PostAsync($"/api/v1/packages/{id}/deliveries/bcc-childrens/retry",
            Packages.Json(new JsonObject { ["reason"] = "bcc-childrens restored its endpoint" }));
        await push.Receiver.WaitForRequestAsync(2);
        var delivered = await push.RecipientWhenAsync(id, r => PushFixture.PushState(r) == "delivered", "the operator retry to deliver");
        var again = await operatorClient.PostAsync($"/api/v1/packages/{id}/deliveries/bcc-childrens/retry", null);

        Assert.Equal("dead-lettered", (string)dead["delivery"]!["state"]!);
        Assert.Equal(("bcc-childrens", id), (disabled.Recipient, disabled.PackageId));
        Assert.Contains(listed!, e => Guid.Parse((string)e!["packageId"]!) == id);
        Assert.Equal(HttpStatusCode.Forbidden, notOperator.StatusCode);
        Assert.Equal(HttpStatusCode.Accepted, retry.StatusCode);
        Assert.True((bool)(await retry.Content.ReadFromJsonAsync<JsonObject>())!["endpointReenabled"]!);
        Assert.Equal(HttpStatusCode.Conflict, again.StatusCode);
        Assert.Equal(push.Receiver.Requests[0].Id, push.Receiver.Requests[1].Id);
        Assert.Equal(2, PushFixture.Attempts(delivered));
        var requested = Assert.Single(await push.EventsAsync<WebhookRetryRequested>());
        Assert.Equal(("toex-operations/toex-operations-tester", true), (requested.RequestedBy, requested.EndpointReenabled));
        Assert.Single(await push.EventsAsync<WebhookDeadLettered>());
    }

    [Fact]
    public async Task Follows_no_redirect()
    {
        await using var elsewhere = await WebhookReceiver.StartAsync();
        await using var push = await PushFixture.StartAsync(store);
        push.Receiver.Respond = (context, n) =>
        {
            context.Response.StatusCode = n == 1 ? StatusCodes.Status307TemporaryRedirect : StatusCodes.Status200OK;
            context.Response.Headers.Location = elsewhere.Url.ToString();
            return Task.CompletedTask;
        };

        var id = await push.ReleaseExampleAsync();
        var failed = await push.RecipientWhenAsync(id, r => PushFixture.Attempts(r) == 1, "the redirected attempt to be recorded");

        Assert.Equal(0, elsewhere.Count);
        Assert.Equal("pending", PushFixture.PushState(failed));
        Assert.Equal(307, (int)failed["delivery"]!["push"]!["lastStatusCode"]!);
        Assert.Contains("redirect", (string)failed["delivery"]!["push"]!["lastError"]!, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Dead_letters_a_partner_down_past_the_horizon_then_the_operator_retry_redelivers_with_the_same_webhook_id()
    {
        var port = FreePort.Next();
        await using var push = await PushFixture.StartAsync(store, new() { ["Gateway:Webhooks:Horizon"] = "00:01:00" }, registerReceiver: false);
        push.Gateway.RegisterWebhook("bcc-childrens", new Uri($"http://127.0.0.1:{port}/hooks"));

        var id = await push.ReleaseExampleAsync();
        // Nothing listens: attempts at 0 s, 10 s and 30 s fail; the next (70 s) would pass the 60 s horizon.
        for (var attempt = 1; attempt <= 3; attempt++)
        {
            var recipient = await push.RecipientWhenAsync(id, r => PushFixture.Attempts(r) == attempt, $"attempt {attempt} to fail");
            if (attempt < 3)
            {
                Assert.Equal("pending", PushFixture.PushState(recipient));
                push.Advance(TenSeconds * Math.Pow(2, attempt - 1));
            }
        }
        var dead = await push.RecipientWhenAsync(id, r => PushFixture.PushState(r) == "dead-lettered", "the push to be dead-lettered");
        await using var partnerBack = await WebhookReceiver.StartAsync(port);
        var retry = await push.Gateway.ClientFor("toex-operations", "Deliveries.Operate")
            .PostAsync($"/api/v1/packages/{id}/deliveries/bcc-childrens/retry", null);
        var request = await partnerBack.WaitForRequestAsync(1);
        var delivered = await push.RecipientWhenAsync(id, r => PushFixture.PushState(r) == "delivered", "the retried push to deliver");

        Assert.Equal("dead-lettered", (string)dead["delivery"]!["state"]!);
        Assert.Equal(HttpStatusCode.Accepted, retry.StatusCode);
        Assert.Equal((string)delivered["delivery"]!["push"]!["webhookId"]!, request.Id);
        Assert.Equal(4, PushFixture.Attempts(delivered));
        Assert.Equal(1, (int)delivered["delivery"]!["push"]!["retries"]!);
        var deadLettered = Assert.Single(await push.EventsAsync<WebhookDeadLettered>());
        Assert.Equal(3, deadLettered.Attempts);
        Assert.Equal(3, (await push.EventsAsync<WebhookAttemptFailed>()).Count);
        Assert.Null((await push.EventsAsync<WebhookAttemptFailed>())[^1].NextAttemptAt);
    }

    [Fact]
    public async Task Honours_Retry_After_on_429()
    {
        await using var push = await PushFixture.StartAsync(store);
        push.Receiver.Respond = (context, n) =>
        {
            context.Response.StatusCode = n == 1 ? StatusCodes.Status429TooManyRequests : StatusCodes.Status200OK;
            context.Response.Headers.RetryAfter = "120";
            return Task.CompletedTask;
        };

        var id = await push.ReleaseExampleAsync();
        var failed = await push.RecipientWhenAsync(id, r => PushFixture.Attempts(r) == 1, "the 429 to be recorded");
        push.Advance(TimeSpan.FromSeconds(119));
        var early = await push.RecipientAsync(id);
        push.Advance(TimeSpan.FromSeconds(1));
        await push.Receiver.WaitForRequestAsync(2);

        Assert.Equal(push.Clock.GetUtcNow(), DateTimeOffset.Parse((string)failed["delivery"]!["push"]!["nextAttemptAt"]!, System.Globalization.CultureInfo.InvariantCulture));
        Assert.Equal(1, PushFixture.Attempts(early));
    }

    [Fact]
    public async Task A_redelivered_release_message_gives_the_partner_one_webhook_id()
    {
        await using var push = await PushFixture.StartAsync(store);
        var (id, submitted) = await push.Gateway.SubmitAsync(Packages.Example());

        await push.DeliverDecisionAsync(id, submitted);
        await push.RecipientWhenAsync(id, r => PushFixture.PushState(r) == "delivered", "the push to deliver");
        await push.DeliverDecisionAsync(id, submitted);
        push.Advance(TimeSpan.FromHours(25));
        var after = await push.RecipientAsync(id);

        Assert.Equal(1, push.Receiver.Count);
        Assert.Equal(1, PushFixture.Attempts(after));
        Assert.Single(await push.EventsAsync<WebhookDelivered>());
    }

    [Fact]
    public async Task Refuses_a_loopback_endpoint_of_a_partner_not_marked_local_development()
    {
        await using var push = await PushFixture.StartAsync(store, registerReceiver: false);
        push.Gateway.RegisterWebhook("bcc-childrens", new Uri($"https://127.0.0.1:{push.Receiver.Url.Port}/hooks"), localDevelopment: false);

        var id = await push.ReleaseExampleAsync();
        var failed = await push.RecipientWhenAsync(id, r => PushFixture.Attempts(r) == 1, "the refused attempt to be recorded");
        push.Gateway.RegisterWebhook("bcc-childrens", new Uri($"http://localhost:{push.Receiver.Url.Port}/hooks"), localDevelopment: false);
        push.Advance(TenSeconds);
        var plain = await push.RecipientWhenAsync(id, r => PushFixture.Attempts(r) == 2, "the plain-http attempt to be recorded");

        Assert.Contains("127.0.0.1 is a loopback address", (string)failed["delivery"]!["push"]!["lastError"]!, StringComparison.Ordinal);
        Assert.Contains("https", (string)plain["delivery"]!["push"]!["lastError"]!, StringComparison.Ordinal);
        Assert.Equal(0, push.Receiver.Count);
    }
}

public sealed class PushDeliveryTestsOnSqlite() : PushDeliveryTests(StoreKind.Sqlite);

public sealed class PushDeliveryTestsOnPostgreSql() : PushDeliveryTests(StoreKind.PostgreSql);
