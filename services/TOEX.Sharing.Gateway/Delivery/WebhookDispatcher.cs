using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using TOEX.Sharing.Contracts;
using TOEX.Sharing.Gateway.Core;
using TOEX.Sharing.Gateway.Data;
using TOEX.Sharing.Gateway.Release;
using TOEX.Sharing.ServiceDefaults;

namespace TOEX.Sharing.Gateway.Delivery;

/// <summary>
/// Sends the pushes that are due, on the injected clock: claims each (so several gateways never send one push at
/// once), makes one attempt, and records what came of it with its events in one transaction: delivered, a failed
/// attempt with the next one scheduled, or dead-lettered once the horizon has passed. Also marks unacknowledged
/// packages overdue. The schedule lives in the store, so a restart loses nothing: a claim left by a gateway that
/// died mid-attempt lapses and the push is tried again (with the same webhook-id).
/// </summary>
public sealed class WebhookDispatcher(
    IServiceScopeFactory scopes, GatewayWriter writer, WebhookClient client, WebhookEndpoints endpoints, RetrySchedule schedule, WebhookSignal signal,
    OutboxSignal outbox, TimeProvider time, IOptions<WebhookOptions> options, ILogger<WebhookDispatcher> logger) : BackgroundService
{
    private static readonly TimeSpan Poll = TimeSpan.FromSeconds(30);
    private const int Batch = 32;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            var wait = Poll;
            var clock = time;
            try
            {
                while (await RunDueAsync(stoppingToken))
                {
                }
                wait = await NextWaitAsync(stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e)
            {
                logger.LogWarning(e, "Webhook dispatcher failed a round; will try again");
                // A failure of the store is retried soon on the machine's clock, not the schedule's.
                (wait, clock) = (TimeSpan.FromSeconds(1), TimeProvider.System);
            }
            try
            {
                await signal.WaitAsync(wait, clock, stoppingToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    /// <summary>One round: overdue acknowledgements, then the pushes due now. True when there may be more due.</summary>
    private async Task<bool> RunDueAsync(CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<GatewayDb>();
        var now = time.GetUtcNow();
        var nowMs = now.ToUnixTimeMilliseconds();
        if (await writer.WriteAsync((target, token) => Acknowledgements.MarkOverdueAsync(target, now, logger, token), cancellationToken) > 0)
        {
            outbox.Notify();
        }

        // A claim that lapsed was held by a gateway that stopped mid-attempt: the push is due again, unless its package
        // was recalled meanwhile (the recall found it under way): then it is never tried again, and is settled below.
        var lapsedRecalled = await writer.WriteAsync((target, token) => RecipientLife.ReturnLapsedClaimsAsync(target, nowMs, Batch, token),
            cancellationToken);
        foreach (var id in lapsedRecalled)
        {
            await ApplyAsync(id, Lapsed, cancellationToken);
        }

        var due = await db.Webhooks.AsNoTracking()
            .Where(w => w.State == PushState.Pending && w.NextAttemptAtUnixMs <= nowMs)
            .OrderBy(w => w.NextAttemptAtUnixMs)
            .Select(w => w.Id)
            .Take(Batch)
            .ToListAsync(cancellationToken);
        var lease = nowMs + (long)(options.Value.AttemptTimeout + TimeSpan.FromMinutes(1)).TotalMilliseconds;
        // Claimed one by one (another gateway may claim some first: each row's update counts only if still pending), by the
        // gateway's writer: one change for the round, committed with whatever else the writer has, not one per push.
        // A package's push is never claimed once its package is recalled, and claiming one bumps its package's version, so a
        // recall prepared before the claim committed is refused and tried again, and then finds the push under way.
        var claimed = await writer.WriteAsync(async (target, token) =>
        {
            var won = new List<Guid>();
            foreach (var id in due)
            {
                if (await RecipientLife.ClaimAsync(target, id, lease, token))
                {
                    won.Add(id);
                }
            }
            var packages = await target.Webhooks.Where(w => won.Contains(w.Id) && w.Kind == ItemKind.Package).Select(w => w.PackageId)
                .Distinct().ToListAsync(token);
            await target.Submissions.Where(s => packages.Contains(s.Id))
                .ExecuteUpdateAsync(s => s.SetProperty(x => x.Version, x => x.Version + 1), token);
            return won;
        }, cancellationToken);
        await Task.WhenAll(claimed.Select(id => AttemptAsync(id, cancellationToken)));
        if (claimed.Count > 0)
        {
            outbox.Notify();
        }
        return due.Count == Batch;
    }

    private async Task<TimeSpan> NextWaitAsync(CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<GatewayDb>();
        var next = await db.Webhooks.Where(w => w.State == PushState.Pending).MinAsync(w => (long?)w.NextAttemptAtUnixMs, cancellationToken);
        var ack = await Acknowledgements.NextDueAsync(db, cancellationToken);
        var soonest = new[] { next, ack }.Where(t => t is not null).Select(t => t!.Value).DefaultIfEmpty(long.MaxValue).Min();
        var wait = TimeSpan.FromMilliseconds(Math.Max(0, Math.Min(soonest - time.GetUtcNow().ToUnixTimeMilliseconds(), (long)Poll.TotalMilliseconds)));
        return wait;
    }

    /// <summary>What an attempt came to when its claim lapsed with its package recalled: unknown, so it is not tried again.</summary>
    private static readonly AttemptResult Lapsed = new(false, null, "The attempt's outcome is unknown: its claim lapsed (the gateway stopped mid-attempt).");

    /// <summary>How many times an attempt's outcome is applied again when a recall commits while it is applied.</summary>
    private const int ApplyTries = 5;

    private async Task AttemptAsync(Guid id, CancellationToken cancellationToken)
    {
        // The attempt's span stays open while its outcome is recorded, so the events it raises join the package's trace.
        System.Diagnostics.Activity? activity = null;
        try
        {
            AttemptResult result;
            await using (var scope = scopes.CreateAsyncScope())
            {
                var db = scope.ServiceProvider.GetRequiredService<GatewayDb>();
                var push = await db.Webhooks.AsNoTracking().SingleAsync(w => w.Id == id, cancellationToken);
                var item = await db.Feed.AsNoTracking().SingleAsync(f => f.Cursor == push.FeedCursor, cancellationToken);
                activity = ToexTelemetry.StartLinkedTo("gateway.webhook", push.TraceParent);
                activity?.SetTag("toex.package_id", push.PackageId.ToString());
                activity?.SetTag("toex.recipient", push.Recipient);
                activity?.SetTag("toex.item_kind", push.Kind.Text());

                if (await db.WebhookEndpoints.AnyAsync(e => e.Partner == push.Recipient && e.DisabledAtUnixMs != null, cancellationToken))
                {
                    result = Disabled;
                }
                else
                {
                    var (endpoint, problem) = endpoints.Resolve(push.Recipient);
                    var started = time.GetTimestamp();
                    result = endpoint is null
                        ? new AttemptResult(false, null, problem)
                        : await client.SendAsync(endpoint, push.Id, WebhookBody.For(item), cancellationToken);
                    ToexTelemetry.PushAttemptDuration.Record(time.GetElapsedTime(started).TotalMilliseconds,
                        new KeyValuePair<string, object?>("result", result.Delivered ? "delivered" : "failed"));
                    activity?.SetTag("toex.webhook.delivered", result.Delivered);
                }
            }
            await ApplyAsync(id, result, cancellationToken);
        }
        finally
        {
            activity?.Dispose();
        }
    }

    /// <summary>The partner's endpoint is disabled (a 410): the push is dead-lettered without an attempt.</summary>
    private static readonly AttemptResult Disabled = new(false, null, "The partner's endpoint is disabled (it answered 410 Gone); an operator retry re-enables it.");

    /// <summary>
    /// Records what an attempt came to, only while the push is still this claim's (under way), and as of the package
    /// committed now: the package's version is bumped with it, so a recall committed meanwhile makes this apply again
    /// on a fresh reading, where it finds the recall and settles it (accepted: the recipient is notified; not: withdrawn,
    /// never tried again). No recall is left pending, and nothing is retried after a recall.
    /// </summary>
    private async Task ApplyAsync(Guid id, AttemptResult result, CancellationToken cancellationToken)
    {
        for (var attempt = 1; ; attempt++)
        {
            await using var scope = scopes.CreateAsyncScope();
            try
            {
                // Applied by the gateway's writer, committed with whatever else it has (other attempts, releases).
                var releaser = await writer.WriteAsync((target, token) => ApplyOnceAsync(scope.ServiceProvider, target, id, result, token),
                    cancellationToken);
                releaser?.NotifyCommitted();
                return;
            }
            catch (DbUpdateConcurrencyException) when (attempt < ApplyTries)
            {
                logger.LogInformation("Webhook {WebhookId}: its package changed while the attempt was recorded; recording it again", id);
            }
        }
    }

    /// <summary>The change that records an attempt; returns the releaser of a recall notice it wrote, to wake the outbox and pushes once committed.</summary>
    private async Task<Releaser?> ApplyOnceAsync(IServiceProvider services, GatewayDb db, Guid id, AttemptResult result, CancellationToken cancellationToken)
    {
        var push = await db.Webhooks.SingleAsync(w => w.Id == id, cancellationToken);
        if (push.State != PushState.Sending)
        {
            // Settled elsewhere meanwhile (its lapsed claim was taken over): this outcome is not the one on record.
            logger.LogWarning("Webhook {WebhookId}: the attempt ended after its claim was no longer held ({State}); its outcome is not recorded",
                id, push.State.Text());
            return null;
        }
        var submission = await db.Submissions.SingleAsync(s => s.Id == push.PackageId, cancellationToken);
        submission.Touch();
        var now = time.GetUtcNow();
        if (ReferenceEquals(result, Disabled))
        {
            await DeadLetterAsync(db, push, result.Error!, now, cancellationToken);
            return null;
        }
        var item = await db.Feed.SingleAsync(f => f.Cursor == push.FeedCursor, cancellationToken);
        var unknown = ReferenceEquals(result, Lapsed);
        if (!unknown)
        {
            push.Attempts++;
            push.LastStatusCode = result.StatusCode;
        }
        // A recall that found this push under way waits for it: accepted (or unknown), the recipient is notified; not, withdrawn.
        var recalled = push.Kind == ItemKind.Package
            ? await db.Recipients.SingleOrDefaultAsync(r => r.PackageId == push.PackageId && r.Partner == push.Recipient
                && r.RecallAction == RecallAction.Pending, cancellationToken)
            : null;
        if (result.Delivered)
        {
            await DeliveredAsync(db, push, item, result, now, cancellationToken);
        }
        else if (unknown)
        {
            RecipientLife.PushCancelled(push, $"{result.Error} Recalled meanwhile: not tried again; the recipient is sent the recall notice, as it may have it.");
        }
        else
        {
            await FailedAsync(db, push, result, now, recalled is not null, cancellationToken);
        }
        if (recalled is null)
        {
            return null;
        }
        // Rare (a recall while this push was under way): its notice is sealed here, inside the writer's change; a fresh
        // releaser each time the change is applied, so a change applied again alone writes the notice once.
        var releaser = ActivatorUtilities.CreateInstance<Releaser>(services);
        if (result.Delivered || unknown || !await RecipientLife.WithdrawFromFeedAsync(db, push.PackageId, push.Recipient, now, cancellationToken))
        {
            RecipientLife.RecallSettled(recalled, RecallAction.Notified);
            releaser.ReleaseRecallNotice(submission, recalled);
        }
        else
        {
            RecipientLife.RecallSettled(recalled, RecallAction.Withdrawn);
        }
        logger.LogInformation("Recall of package {PackageId} settled for {Recipient}: {RecallAction}", push.PackageId, push.Recipient, recalled.RecallAction!.Value.Text());
        await releaser.WriteAsync(db, cancellationToken);
        return releaser;
    }

    private async Task DeliveredAsync(GatewayDb db, WebhookDelivery push, FeedItem item, AttemptResult result, DateTimeOffset now,
        CancellationToken cancellationToken)
    {
        var state = push.Kind == ItemKind.Package
            ? await db.Recipients.SingleAsync(r => r.PackageId == push.PackageId && r.Partner == push.Recipient, cancellationToken)
            : null;
        RecipientLife.PushDelivered(push, item, state, now);
        ToexTelemetry.Deliveries.Add(1, new("channel", "push"), new("event", "delivered"), new("kind", push.Kind.Text()));
        db.Enqueue(new WebhookDelivered
        {
            WebhookId = push.Id,
            PackageId = push.PackageId,
            Recipient = push.Recipient,
            Kind = push.Kind.Text(),
            Attempt = push.Attempts,
            StatusCode = result.StatusCode!.Value,
            At = now,
        }, DerivedId.From(push.Id, "delivered"), now);
        logger.LogInformation("Webhook {WebhookId} ({Kind} of package {PackageId}) delivered to {Recipient} on attempt {Attempt}, acknowledged: {Acknowledged}",
            push.Id, push.Kind.Text(), push.PackageId, push.Recipient, push.Attempts, result.Acknowledged);
        if (result.Acknowledged)
        {
            await Acknowledgements.RecordAsync(db, push.PackageId, push.Recipient, push.Kind, $"{push.Recipient} webhook endpoint", "push", now, cancellationToken);
        }
    }

    private async Task FailedAsync(GatewayDb db, WebhookDelivery push, AttemptResult result, DateTimeOffset now, bool recalled,
        CancellationToken cancellationToken)
    {
        DateTimeOffset? next = null;
        if (result.Gone)
        {
            await DisableEndpointAsync(db, push, now, cancellationToken);
        }
        else if (!recalled)
        {
            var wait = result.RetryAfter is { } retryAfter ? schedule.Honour(retryAfter) : schedule.Delay(push.Attempts);
            if ((now + wait).ToUnixTimeMilliseconds() <= push.HorizonEndsAtUnixMs)
            {
                next = now + wait;
            }
        }
        db.Enqueue(new WebhookAttemptFailed
        {
            WebhookId = push.Id,
            PackageId = push.PackageId,
            Recipient = push.Recipient,
            Kind = push.Kind.Text(),
            Attempt = push.Attempts,
            StatusCode = result.StatusCode,
            Error = result.Error ?? "unknown",
            NextAttemptAt = next,
            At = now,
        }, DerivedId.From(push.Id, $"attempt/{push.Attempts}"), now);
        logger.LogWarning("Webhook {WebhookId} to {Recipient}: attempt {Attempt} failed ({Error}); next at {NextAttemptAt}",
            push.Id, push.Recipient, push.Attempts, result.Error, next);
        if (recalled)
        {
            // Recalled while this attempt was under way: it is not tried again.
            RecipientLife.PushCancelled(push, $"{result.Error} Recalled meanwhile: not tried again.");
        }
        else if (next is { } at)
        {
            ToexTelemetry.Retries.Add(1, new KeyValuePair<string, object?>("kind", push.Kind.Text()));
            RecipientLife.PushRetrying(push, result.Error, at);
        }
        else
        {
            await DeadLetterAsync(db, push, result.Gone ? "The endpoint answered 410 Gone and is disabled." : "The retry horizon passed without a successful attempt.", now, cancellationToken);
        }
    }

    private async Task DisableEndpointAsync(GatewayDb db, WebhookDelivery push, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var endpoint = await db.WebhookEndpoints.SingleOrDefaultAsync(e => e.Partner == push.Recipient, cancellationToken);
        if (endpoint is null)
        {
            endpoint = new WebhookEndpointState { Partner = push.Recipient };
            db.WebhookEndpoints.Add(endpoint);
        }
        endpoint.DisabledAtUnixMs = now.ToUnixTimeMilliseconds();
        endpoint.DisabledReason = "410 Gone";
        db.Enqueue(new WebhookEndpointDisabled
        {
            Recipient = push.Recipient,
            WebhookId = push.Id,
            PackageId = push.PackageId,
            Reason = "The endpoint answered 410 Gone.",
            At = now,
        }, DerivedId.From(push.Id, $"endpoint-disabled/{push.Attempts}"), now);
        logger.LogError("Webhook endpoint of {Recipient} answered 410 Gone: disabled; its pushes are dead-lettered until an operator retries",
            push.Recipient);
    }

    private async Task DeadLetterAsync(GatewayDb db, WebhookDelivery push, string reason, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var state = push.Kind == ItemKind.Package
            ? await db.Recipients.SingleAsync(r => r.PackageId == push.PackageId && r.Partner == push.Recipient, cancellationToken)
            : null;
        RecipientLife.PushDeadLettered(push, state, reason);
        ToexTelemetry.DeadLetters.Add(1, new KeyValuePair<string, object?>("kind", push.Kind.Text()));
        db.Enqueue(new WebhookDeadLettered
        {
            WebhookId = push.Id,
            PackageId = push.PackageId,
            Recipient = push.Recipient,
            Kind = push.Kind.Text(),
            Attempts = push.Attempts,
            Reason = reason,
            At = now,
        }, DerivedId.From(push.Id, $"dead-lettered/{push.Retries}"), now);
        logger.LogError("Webhook {WebhookId} ({Kind} of package {PackageId}) to {Recipient} dead-lettered after {Attempts} attempts: {Reason}",
            push.Id, push.Kind.Text(), push.PackageId, push.Recipient, push.Attempts, reason);
    }
}
