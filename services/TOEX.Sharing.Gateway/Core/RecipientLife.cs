using Microsoft.EntityFrameworkCore;
using TOEX.Sharing.Contracts;
using TOEX.Sharing.Gateway.Data;
using TOEX.Sharing.ServiceDefaults;

namespace TOEX.Sharing.Gateway.Core;

/// <summary>A change of state the recipient's life does not allow: a fault of the gateway, never of its caller.</summary>
public sealed class IllegalTransitionException(string message) : InvalidOperationException(message);

/// <summary>
/// A recipient's life in one place: the only code that changes a recipient's <see cref="DeliveryState"/>, its
/// <see cref="RecallAction"/> and the <see cref="PushState"/> of its pushes. API handlers, consumers, the held releases
/// and the webhook dispatcher ask it; a transition the machine below does not draw is refused here
/// (<see cref="IllegalTransitionException"/>), so no caller can put a copy in a state it cannot reach.
/// <code>
///                  decide: refer                    referral approved
///   pending ─────────────────────► awaiting-referral ─────────┐
///     │ │ decide: deny / rejected        │ referral rejected   │
///     │ └────────────► withheld ◄────────┘ recall (unreleased) │
///     │ decide: permit   ▲                                      ▼
///     ├─────────────────┼──────────────────► release ◄─────────┤
///     │                  │ recall          ┌───┴─────────┬────────────┐
///     │                held ◄── ledger lags┘  no key     │ copy made   │
///     │                  └── ledger caught up ► failed   ▼             │
///     │                                              released ◄──────── operator retry
///     │                           push given up ┌──────┘ │ │ push accepted / feed read
///     │                                  dead-lettered ──┤ ▼
///     │                                           │   delivered
///     │            recall before delivery         │      │ acknowledged (package)
///     │            (withdrawn) ◄──────────────────┴─ released        ▼
///     │                                                        acknowledged
///   recall after delivery: recall action notified (a sealed notice on its feed and push);
///   recall while a push is under way: recall action pending, settled by that attempt (notified or withdrawn).
///
///   push:  pending ──claim──► sending ──accepted──► delivered
///             ▲  ▲              │ │ └──failed, horizon left──► pending
///             │  └─claim lapsed─┘ └───failed, horizon passed / 410──► dead-lettered ──operator retry──► pending
///             recall before delivery (pending, dead-lettered) or during an attempt that failed: cancelled
/// </code>
/// </summary>
public static class RecipientLife
{
    /// <summary>The recipient's states, and the states each may move to.</summary>
    internal static readonly IReadOnlyDictionary<DeliveryState, DeliveryState[]> Deliveries = new Dictionary<DeliveryState, DeliveryState[]>
    {
        [DeliveryState.Pending] = [DeliveryState.AwaitingReferral, DeliveryState.Withheld, DeliveryState.Held, DeliveryState.Released, DeliveryState.Failed],
        [DeliveryState.AwaitingReferral] = [DeliveryState.Withheld, DeliveryState.Held, DeliveryState.Released, DeliveryState.Failed],
        [DeliveryState.Held] = [DeliveryState.Held, DeliveryState.Withheld, DeliveryState.Released, DeliveryState.Failed],
        [DeliveryState.Released] = [DeliveryState.Delivered, DeliveryState.Acknowledged, DeliveryState.DeadLettered, DeliveryState.Withdrawn],
        [DeliveryState.DeadLettered] = [DeliveryState.Released, DeliveryState.Delivered, DeliveryState.Acknowledged, DeliveryState.Withdrawn],
        [DeliveryState.Delivered] = [DeliveryState.Acknowledged],
        [DeliveryState.Acknowledged] = [],
        [DeliveryState.Withheld] = [],
        [DeliveryState.Failed] = [],
        [DeliveryState.Withdrawn] = [],
    };

    /// <summary>A push's states, and the states each may move to.</summary>
    internal static readonly IReadOnlyDictionary<PushState, PushState[]> Pushes = new Dictionary<PushState, PushState[]>
    {
        [PushState.Pending] = [PushState.Sending, PushState.Cancelled],
        [PushState.Sending] = [PushState.Pending, PushState.Delivered, PushState.DeadLettered, PushState.Cancelled],
        [PushState.DeadLettered] = [PushState.Pending, PushState.Cancelled],
        [PushState.Delivered] = [],
        [PushState.Cancelled] = [],
    };

    /// <summary>True when the recipient may move from <paramref name="from"/> to <paramref name="to"/>.</summary>
    public static bool Allows(DeliveryState from, DeliveryState to) => Deliveries[from].Contains(to);

    /// <summary>True when a push may move from <paramref name="from"/> to <paramref name="to"/>.</summary>
    public static bool Allows(PushState from, PushState to) => Pushes[from].Contains(to);

    private static void Move(RecipientState state, DeliveryState to)
    {
        if (!Allows(state.DeliveryState, to))
        {
            throw new IllegalTransitionException(
                $"A recipient's copy cannot go from {state.DeliveryState.Text()} to {to.Text()} (package {state.PackageId}, {state.Partner}).");
        }
        state.DeliveryState = to;
    }

    private static void Move(WebhookDelivery push, PushState to)
    {
        if (!Allows(push.State, to))
        {
            throw new IllegalTransitionException($"A push cannot go from {push.State.Text()} to {to.Text()} (webhook {push.Id}).");
        }
        push.State = to;
    }

    // ── Decided ────────────────────────────────────────────────────────────────────────────────────────────────

    /// <summary>A recipient of a package just submitted: pending its decision.</summary>
    public static RecipientState Submitted(string partner, int position) =>
        new() { Partner = partner, Position = position, DeliveryState = DeliveryState.Pending };

    /// <summary>
    /// Records the decision's outcome for the recipient. A refer awaits an IG officer (its referral id derived from the
    /// package), a deny is withheld; a permit stays pending until <see cref="Released"/>, <see cref="Held"/> or <see cref="Failed"/>.
    /// </summary>
    public static void Decided(RecipientState state, Outcome outcome, string? agreement, string reasonsJson, string obligationsJson, DateTimeOffset now)
    {
        if (state.DeliveryState != DeliveryState.Pending)
        {
            throw new IllegalTransitionException($"A recipient is decided once, while pending (it is {state.DeliveryState.Text()}).");
        }
        state.Outcome = outcome;
        state.Agreement = agreement;
        state.ReasonsJson = reasonsJson;
        state.ObligationsJson = obligationsJson;
        switch (outcome)
        {
            case Outcome.Refer:
                Move(state, DeliveryState.AwaitingReferral);
                state.ReferralId = DerivedId.From(state.PackageId, $"referral/{state.Partner}");
                state.ReferredAtUnixMs = now.ToUnixTimeMilliseconds();
                break;
            case Outcome.Deny:
                Move(state, DeliveryState.Withheld);
                break;
        }
    }

    /// <summary>The decision failed verification: nothing is released to anyone.</summary>
    public static void DecisionRejected(RecipientState state)
    {
        Move(state, DeliveryState.Withheld);
        state.LastError = "The decision failed verification; nothing was released.";
    }

    /// <summary>An IG officer decided the referral: approved, the copy is to be released (or held); rejected, it is withheld.</summary>
    public static void ReferralDecided(RecipientState state, bool approved, string decidedBy, string? justification, DateTimeOffset decidedAt)
    {
        if (state.DeliveryState != DeliveryState.AwaitingReferral || state.ReferralDecision is not null)
        {
            throw new IllegalTransitionException($"Only a referral still awaited is decided (it is {state.DeliveryState.Text()}).");
        }
        state.ReferralDecision = approved ? "approved" : "rejected";
        state.ReferralDecidedBy = decidedBy;
        state.ReferralJustification = justification;
        state.ReferralDecidedAt = decidedAt;
        state.Outcome = approved ? Outcome.Permit : Outcome.Deny;
        if (!approved)
        {
            Move(state, DeliveryState.Withheld);
        }
    }

    /// <summary>The authority a release of this recipient's copy is made on: the decision's, or the officer's who approved its referral.</summary>
    public static (string AuthorisedBy, string? Justification) Authority(RecipientState state) => state.ReferralDecision == "approved"
        ? ($"ig-officer {state.ReferralDecidedBy}", state.ReferralJustification)
        : ("policy-decision", null);

    // ── Held, released ─────────────────────────────────────────────────────────────────────────────────────────

    /// <summary>Fail closed: permitted, but not released while the audit ledger lags.</summary>
    public static void Held(RecipientState state, string reason)
    {
        Move(state, DeliveryState.Held);
        state.LastError = reason;
    }

    /// <summary>No copy could be made (no usable partner key): nothing is released to this recipient.</summary>
    public static void Failed(RecipientState state, string reason)
    {
        Move(state, DeliveryState.Failed);
        state.LastError = reason;
    }

    /// <summary>The copy is on the recipient's feed (and queued for its push): its acknowledgement falls due when the obligation applies.</summary>
    public static void Released(RecipientState state, DateTimeOffset now, DateTimeOffset? acknowledgementDue)
    {
        Move(state, DeliveryState.Released);
        state.ReleasedAt = now;
        state.Attempts = 1;
        state.LastError = null;
        if (acknowledgementDue is { } due)
        {
            state.AcknowledgementDueAtUnixMs = due.ToUnixTimeMilliseconds();
        }
    }

    /// <summary>A queued push of a feed item: one per item, its id the <c>webhook-id</c> of every attempt.</summary>
    public static WebhookDelivery PushQueued(FeedItem item, DateTimeOffset now, TimeSpan horizon, string? traceParent)
    {
        var at = now.ToUnixTimeMilliseconds();
        return new WebhookDelivery
        {
            Id = WebhookId(item.PackageId, item.Recipient, item.Kind),
            Recipient = item.Recipient,
            PackageId = item.PackageId,
            Kind = item.Kind,
            FeedCursor = item.Cursor,
            State = PushState.Pending,
            CreatedAtUnixMs = at,
            NextAttemptAtUnixMs = at,
            HorizonEndsAtUnixMs = at + (long)horizon.TotalMilliseconds,
            TraceParent = traceParent,
        };
    }

    /// <summary>The push of a feed item: one per item, its id the <c>webhook-id</c> of every attempt.</summary>
    public static Guid WebhookId(Guid packageId, string recipient, ItemKind kind) => DerivedId.From(packageId, $"webhook/{recipient}/{kind.Text()}");

    // ── Pushed, delivered, acknowledged ────────────────────────────────────────────────────────────────────────

    /// <summary>
    /// Claims a pending push that is due for one attempt, unless its package was recalled (a package's push is never
    /// claimed after its recall); true when this caller won it (another gateway may claim it first).
    /// </summary>
    public static async Task<bool> ClaimAsync(GatewayDb db, Guid id, long leaseUntilUnixMs, CancellationToken cancellationToken) =>
        await db.Webhooks.Where(w => w.Id == id && w.State == PushState.Pending
                && !(w.Kind == ItemKind.Package && db.Submissions.Any(s => s.Id == w.PackageId && s.RecalledAt != null)))
            .ExecuteUpdateAsync(w => w.SetProperty(x => x.State, PushState.Sending).SetProperty(x => x.LeaseUntilUnixMs, leaseUntilUnixMs),
                cancellationToken) == 1;

    /// <summary>
    /// A claim that lapsed was held by a gateway that stopped mid-attempt: the push is due again, unless its package was
    /// recalled meanwhile; returns the lapsed claims of recalled packages, which the caller settles (<see cref="PushCancelled"/>).
    /// </summary>
    public static async Task<List<Guid>> ReturnLapsedClaimsAsync(GatewayDb db, long nowMs, int take, CancellationToken cancellationToken)
    {
        await db.Webhooks.Where(w => w.State == PushState.Sending && w.LeaseUntilUnixMs < nowMs
                && !(w.Kind == ItemKind.Package && db.Submissions.Any(s => s.Id == w.PackageId && s.RecalledAt != null)))
            .ExecuteUpdateAsync(w => w.SetProperty(x => x.State, PushState.Pending), cancellationToken);
        return await db.Webhooks.AsNoTracking().Where(w => w.State == PushState.Sending && w.LeaseUntilUnixMs < nowMs)
            .Select(w => w.Id).Take(take).ToListAsync(cancellationToken);
    }

    /// <summary>The partner's endpoint accepted the push: the recipient has the item (a package's copy: delivered, unless already further on).</summary>
    public static void PushDelivered(WebhookDelivery push, FeedItem item, RecipientState? state, DateTimeOffset now)
    {
        Move(push, PushState.Delivered);
        push.DeliveredAtUnixMs = now.ToUnixTimeMilliseconds();
        push.LeaseUntilUnixMs = null;
        push.LastError = null;
        item.DeliveredAt ??= now;
        if (state is not null)
        {
            state.DeliveredAt ??= now;
            if (state.DeliveryState is DeliveryState.Released or DeliveryState.DeadLettered)
            {
                Move(state, DeliveryState.Delivered);
            }
        }
    }

    /// <summary>An attempt failed with time left on the horizon: tried again at <paramref name="next"/>.</summary>
    public static void PushRetrying(WebhookDelivery push, string? error, DateTimeOffset next)
    {
        Move(push, PushState.Pending);
        push.LeaseUntilUnixMs = null;
        push.LastError = error;
        push.NextAttemptAtUnixMs = next.ToUnixTimeMilliseconds();
    }

    /// <summary>The push is given up (horizon passed, endpoint disabled): the copy stays on the feed.</summary>
    public static void PushDeadLettered(WebhookDelivery push, RecipientState? state, string reason)
    {
        Move(push, PushState.DeadLettered);
        push.LeaseUntilUnixMs = null;
        push.LastError = reason;
        if (state is { DeliveryState: DeliveryState.Released })
        {
            Move(state, DeliveryState.DeadLettered);
        }
    }

    /// <summary>Recalled while under way or before it was sent: the push is never tried again.</summary>
    public static void PushCancelled(WebhookDelivery push, string reason)
    {
        Move(push, PushState.Cancelled);
        push.LeaseUntilUnixMs = null;
        push.LastError = reason;
    }

    /// <summary>An operator sends a dead-lettered push back to its partner with a fresh horizon (the same webhook-id).</summary>
    public static void PushRetried(WebhookDelivery push, RecipientState? state, DateTimeOffset now, TimeSpan horizon)
    {
        Move(push, PushState.Pending);
        push.Retries++;
        push.NextAttemptAtUnixMs = now.ToUnixTimeMilliseconds();
        push.HorizonEndsAtUnixMs = push.NextAttemptAtUnixMs + (long)horizon.TotalMilliseconds;
        if (state is { DeliveryState: DeliveryState.DeadLettered })
        {
            Move(state, DeliveryState.Released);
        }
    }

    /// <summary>
    /// A feed read returned these items: from now on the recipient has them (a package's copy: delivered). Returns those a
    /// recall withdrew between the read's query and this step: they are not served. A change of the gateway's writer: in its
    /// transaction.
    /// </summary>
    public static async Task<HashSet<long>> FeedReadAsync(GatewayDb db, string recipient, List<long> cursors, DateTimeOffset now,
        CancellationToken cancellationToken)
    {
        if (cursors.Count == 0)
        {
            return [];
        }
        await db.Feed.Where(f => cursors.Contains(f.Cursor) && f.DeliveredAt == null && f.WithdrawnAt == null)
            .ExecuteUpdateAsync(f => f.SetProperty(x => x.DeliveredAt, now), cancellationToken);
        var packages = await db.Feed.Where(f => cursors.Contains(f.Cursor) && f.Kind == ItemKind.Package && f.WithdrawnAt == null)
            .Select(f => f.PackageId).ToListAsync(cancellationToken);
        // Released → delivered (the machine's edge, taken in one statement for the page).
        await db.Recipients.Where(r => r.Partner == recipient && packages.Contains(r.PackageId) && r.DeliveryState == DeliveryState.Released)
            .ExecuteUpdateAsync(r => r.SetProperty(x => x.DeliveryState, DeliveryState.Delivered).SetProperty(x => x.DeliveredAt, now), cancellationToken);
        var withdrawn = await db.Feed.Where(f => cursors.Contains(f.Cursor) && f.WithdrawnAt != null).Select(f => f.Cursor).ToListAsync(cancellationToken);
        return [.. withdrawn];
    }

    /// <summary>The recipient acknowledged its package (acknowledged, unless it was recalled) or its recall notice.</summary>
    public static void Acknowledged(RecipientState state, ItemKind kind, DateTimeOffset now)
    {
        if (kind == ItemKind.Recall)
        {
            state.RecallAcknowledgedAt = now;
            return;
        }
        state.DeliveredAt ??= now;
        state.AcknowledgedAt = now;
        if (state.RecallAction is null)
        {
            Move(state, DeliveryState.Acknowledged);
        }
    }

    /// <summary>The acknowledgement was not made by its deadline: marked once.</summary>
    public static void Overdue(RecipientState state, DateTimeOffset now)
    {
        if (state.AcknowledgementDueAtUnixMs is null || state.AcknowledgedAt is not null || state.OverdueAt is not null || state.RecallAction is not null)
        {
            throw new IllegalTransitionException("Only an acknowledgement awaited, not yet overdue, of a package not recalled falls overdue.");
        }
        state.OverdueAt = now;
    }

    // ── Recalled ───────────────────────────────────────────────────────────────────────────────────────────────

    /// <summary>
    /// The originator recalls the package from this recipient. Never released: it never will be (withheld). Released:
    /// taken back if it has not received it (<see cref="TakeBackAsync"/>): withdrawn; notified if it had it; pending while
    /// a push is under way. Returns the action, or null when nothing was released.
    /// </summary>
    public static async Task<RecallAction?> RecallAsync(GatewayDb db, RecipientState state, DateTimeOffset now, CancellationToken cancellationToken)
    {
        if (state.ReleasedAt is null)
        {
            if (state.DeliveryState is DeliveryState.Pending or DeliveryState.AwaitingReferral or DeliveryState.Held)
            {
                Move(state, DeliveryState.Withheld);
                state.LastError = "Recalled before release.";
            }
            return null;
        }
        if (state.RecallAction is not null)
        {
            throw new IllegalTransitionException($"The package was already recalled from {state.Partner}.");
        }
        Recalled(state, await TakeBackAsync(db, state.PackageId, state.Partner, now, cancellationToken));
        return state.RecallAction;
    }

    /// <summary>A push that was under way when the package was recalled ended: the recall is settled (notified or withdrawn).</summary>
    public static void RecallSettled(RecipientState state, RecallAction action)
    {
        if (state.RecallAction != RecallAction.Pending || action == RecallAction.Pending)
        {
            throw new IllegalTransitionException("Only a pending recall is settled, and it is settled notified or withdrawn.");
        }
        state.RecallAction = null;
        Recalled(state, action);
    }

    private static void Recalled(RecipientState state, RecallAction action)
    {
        state.RecallAction = action;
        if (action == RecallAction.Withdrawn)
        {
            Move(state, DeliveryState.Withdrawn);
        }
    }

    /// <summary>
    /// Takes the package back from a recipient that has not received it, in one step with the check, so a push or a
    /// feed read racing the recall either wins (the recipient is notified) or finds nothing: a push waiting to be
    /// sent is cancelled, and the feed item is withdrawn unless a read already returned it. A push under way is
    /// left to finish: pending.
    /// </summary>
    private static async Task<RecallAction> TakeBackAsync(GatewayDb db, Guid packageId, string partner, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var webhookId = WebhookId(packageId, partner, ItemKind.Package);
        var push = await db.Webhooks.AsNoTracking().Where(w => w.Id == webhookId).Select(w => (PushState?)w.State).SingleOrDefaultAsync(cancellationToken);
        if (push == PushState.Delivered)
        {
            return RecallAction.Notified;
        }
        if (push is not null)
        {
            // Pending or dead-lettered → cancelled (the machine's edges, taken in one statement with the check).
            var cancelled = await db.Webhooks
                .Where(w => w.Id == webhookId && (w.State == PushState.Pending || w.State == PushState.DeadLettered))
                .ExecuteUpdateAsync(w => w.SetProperty(x => x.State, PushState.Cancelled)
                    .SetProperty(x => x.LastError, "Recalled before delivery."), cancellationToken);
            if (cancelled == 0)
            {
                return RecallAction.Pending;
            }
        }
        return await WithdrawFromFeedAsync(db, packageId, partner, now, cancellationToken) ? RecallAction.Withdrawn : RecallAction.Notified;
    }

    /// <summary>Withdraws the recipient's feed item unless a read already returned it; true when withdrawn.</summary>
    public static async Task<bool> WithdrawFromFeedAsync(GatewayDb db, Guid packageId, string partner, DateTimeOffset now,
        CancellationToken cancellationToken) =>
        await db.Feed
            .Where(f => f.Recipient == partner && f.PackageId == packageId && f.Kind == ItemKind.Package && f.DeliveredAt == null && f.WithdrawnAt == null)
            .ExecuteUpdateAsync(f => f.SetProperty(x => x.WithdrawnAt, now), cancellationToken) == 1;

    /// <summary>The decision a held or approved copy is released on, rebuilt from what the recipient's state recorded.</summary>
    public static RecipientDecision PermitOf(RecipientState state) => new()
    {
        Recipient = state.Partner,
        Outcome = Outcome.Permit.Text(),
        Agreement = state.Agreement,
        Reasons = state.ReasonsJson is null ? [] : ToexJson.Deserialize<List<Reason>>(state.ReasonsJson),
        Obligations = state.ObligationsJson is null ? [] : ToexJson.Deserialize<List<Obligation>>(state.ObligationsJson),
    };
}
