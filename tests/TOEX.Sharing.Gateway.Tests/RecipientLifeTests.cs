using TOEX.Sharing.Gateway.Core;
using TOEX.Sharing.Gateway.Data;

namespace TOEX.Sharing.Gateway.Tests;

/// <summary>The recipient's state machine, built directly: the transitions it draws, and those it refuses.</summary>
public sealed class RecipientLifeTests
{
    private static readonly DateTimeOffset Now = new(2026, 12, 5, 4, 0, 0, TimeSpan.Zero);

    private static RecipientState Recipient(DeliveryState state = DeliveryState.Pending) =>
        new() { PackageId = Guid.NewGuid(), Partner = "bcc-childrens", DeliveryState = state };

    private static WebhookDelivery Push(PushState state) =>
        new() { Id = Guid.NewGuid(), Recipient = "bcc-childrens", Kind = ItemKind.Package, State = state };

    [Fact]
    public void A_refer_awaits_an_officer_under_a_referral_id_derived_from_the_package()
    {
        var state = Recipient();
        RecipientLife.Decided(state, Outcome.Refer, "isa-1", "[]", "[]", Now);
        Assert.Equal(DeliveryState.AwaitingReferral, state.DeliveryState);
        Assert.Equal(Outcome.Refer, state.Outcome);
        Assert.Equal(("policy-decision", (string?)null), RecipientLife.Authority(state));
        var again = Recipient();
        again.PackageId = state.PackageId;
        RecipientLife.Decided(again, Outcome.Refer, "isa-1", "[]", "[]", Now);
        Assert.Equal(state.ReferralId, again.ReferralId);
        Assert.Equal(Now.ToUnixTimeMilliseconds(), state.ReferredAtUnixMs);
    }

    [Fact]
    public void A_deny_is_withheld_a_permit_stays_pending_until_released_and_a_second_decision_is_refused()
    {
        var denied = Recipient();
        RecipientLife.Decided(denied, Outcome.Deny, null, "[]", "[]", Now);
        Assert.Equal(DeliveryState.Withheld, denied.DeliveryState);

        var permitted = Recipient();
        RecipientLife.Decided(permitted, Outcome.Permit, "isa-1", "[]", "[]", Now);
        Assert.Equal(DeliveryState.Pending, permitted.DeliveryState);
        RecipientLife.Released(permitted, Now, Now.AddDays(1));
        Assert.Equal(DeliveryState.Released, permitted.DeliveryState);
        Assert.Equal(Now, permitted.ReleasedAt);
        Assert.Equal(Now.AddDays(1).ToUnixTimeMilliseconds(), permitted.AcknowledgementDueAtUnixMs);

        Assert.Throws<IllegalTransitionException>(() => RecipientLife.Decided(permitted, Outcome.Deny, null, "[]", "[]", Now));
        Assert.Throws<IllegalTransitionException>(() => RecipientLife.Released(permitted, Now, null));
        Assert.Throws<IllegalTransitionException>(() => RecipientLife.Released(denied, Now, null));
    }

    [Fact]
    public void A_held_copy_stays_held_while_the_ledger_lags_and_is_released_or_withheld_by_a_recall_after()
    {
        var state = Recipient();
        RecipientLife.Held(state, "the ledger lags");
        RecipientLife.Held(state, "the ledger still lags");
        Assert.Equal((DeliveryState.Held, "the ledger still lags"), (state.DeliveryState, state.LastError));
        RecipientLife.Released(state, Now, null);
        Assert.Equal((DeliveryState.Released, (string?)null), (state.DeliveryState, state.LastError));
        Assert.Throws<IllegalTransitionException>(() => RecipientLife.Held(state, "too late"));
        Assert.Throws<IllegalTransitionException>(() => RecipientLife.Failed(state, "too late"));
    }

    [Fact]
    public void A_referral_is_decided_once_approved_on_the_officers_authority_or_rejected_and_withheld()
    {
        var approved = Recipient(DeliveryState.AwaitingReferral);
        RecipientLife.ReferralDecided(approved, approved: true, "officer-1", "needed for the case", Now);
        Assert.Equal((Outcome.Permit, DeliveryState.AwaitingReferral), (approved.Outcome!.Value, approved.DeliveryState));
        Assert.Equal(("ig-officer officer-1", "needed for the case"), RecipientLife.Authority(approved));
        Assert.Throws<IllegalTransitionException>(() => RecipientLife.ReferralDecided(approved, approved: false, "officer-2", null, Now));
        RecipientLife.Released(approved, Now, null);

        var rejected = Recipient(DeliveryState.AwaitingReferral);
        RecipientLife.ReferralDecided(rejected, approved: false, "officer-1", null, Now);
        Assert.Equal((Outcome.Deny, DeliveryState.Withheld, "rejected"), (rejected.Outcome!.Value, rejected.DeliveryState, rejected.ReferralDecision));
        Assert.Throws<IllegalTransitionException>(() => RecipientLife.ReferralDecided(Recipient(), approved: true, "officer-1", null, Now));
    }

    [Fact]
    public void A_push_accepted_delivers_the_copy_and_only_a_claimed_push_is_settled()
    {
        var state = Recipient(DeliveryState.Released);
        var item = new FeedItem { Recipient = state.Partner, Kind = ItemKind.Package, Sealed = "x" };
        var push = Push(PushState.Sending);
        RecipientLife.PushDelivered(push, item, state, Now);
        Assert.Equal((PushState.Delivered, DeliveryState.Delivered), (push.State, state.DeliveryState));
        Assert.Equal(Now, item.DeliveredAt);
        Assert.Equal(Now, state.DeliveredAt);

        Assert.Throws<IllegalTransitionException>(() => RecipientLife.PushDelivered(Push(PushState.Pending), item, null, Now));
        Assert.Throws<IllegalTransitionException>(() => RecipientLife.PushCancelled(push, "a delivered push is never cancelled"));
        Assert.Throws<IllegalTransitionException>(() => RecipientLife.PushRetrying(Push(PushState.Cancelled), "x", Now));
    }

    [Fact]
    public void A_dead_lettered_push_is_sent_back_by_an_operator_and_its_copy_released_again()
    {
        var state = Recipient(DeliveryState.Released);
        var push = Push(PushState.Sending);
        RecipientLife.PushRetrying(push, "503", Now.AddMinutes(1));
        Assert.Equal((PushState.Pending, Now.AddMinutes(1).ToUnixTimeMilliseconds()), (push.State, push.NextAttemptAtUnixMs));
        push.State = PushState.Sending;
        RecipientLife.PushDeadLettered(push, state, "The retry horizon passed.");
        Assert.Equal((PushState.DeadLettered, DeliveryState.DeadLettered), (push.State, state.DeliveryState));

        RecipientLife.PushRetried(push, state, Now, TimeSpan.FromHours(1));
        Assert.Equal((PushState.Pending, DeliveryState.Released, 1), (push.State, state.DeliveryState, push.Retries));
        Assert.Equal(Now.AddHours(1).ToUnixTimeMilliseconds(), push.HorizonEndsAtUnixMs);
        Assert.Throws<IllegalTransitionException>(() => RecipientLife.PushRetried(push, state, Now, TimeSpan.FromHours(1)));
    }

    [Fact]
    public void An_acknowledgement_moves_a_copy_the_recipient_has_but_not_one_recalled_or_never_released()
    {
        var state = Recipient(DeliveryState.Delivered);
        RecipientLife.Acknowledged(state, ItemKind.Package, Now);
        Assert.Equal((DeliveryState.Acknowledged, Now), (state.DeliveryState, state.AcknowledgedAt!.Value));

        var recalled = Recipient(DeliveryState.Delivered);
        recalled.RecallAction = RecallAction.Notified;
        RecipientLife.Acknowledged(recalled, ItemKind.Package, Now);
        RecipientLife.Acknowledged(recalled, ItemKind.Recall, Now);
        Assert.Equal((DeliveryState.Delivered, Now), (recalled.DeliveryState, recalled.RecallAcknowledgedAt!.Value));

        Assert.Throws<IllegalTransitionException>(() => RecipientLife.Acknowledged(Recipient(DeliveryState.Withheld), ItemKind.Package, Now));
        Assert.Throws<IllegalTransitionException>(() => RecipientLife.Overdue(state, Now));
    }

    [Fact]
    public void A_pending_recall_is_settled_once_notified_or_withdrawn()
    {
        var state = Recipient(DeliveryState.Released);
        state.RecallAction = RecallAction.Pending;
        RecipientLife.RecallSettled(state, RecallAction.Withdrawn);
        Assert.Equal((RecallAction.Withdrawn, DeliveryState.Withdrawn), (state.RecallAction!.Value, state.DeliveryState));
        Assert.Throws<IllegalTransitionException>(() => RecipientLife.RecallSettled(state, RecallAction.Notified));

        var notified = Recipient(DeliveryState.Released);
        notified.RecallAction = RecallAction.Pending;
        Assert.Throws<IllegalTransitionException>(() => RecipientLife.RecallSettled(notified, RecallAction.Pending));
        RecipientLife.RecallSettled(notified, RecallAction.Notified);
        Assert.Equal((RecallAction.Notified, DeliveryState.Released), (notified.RecallAction!.Value, notified.DeliveryState));
    }

    [Fact]
    public void Every_state_is_drawn_reachable_from_pending_and_the_ends_have_no_way_out()
    {
        Assert.Equal(Enum.GetValues<DeliveryState>().Order(), RecipientLife.Deliveries.Keys.Order());
        Assert.Equal(Enum.GetValues<PushState>().Order(), RecipientLife.Pushes.Keys.Order());
        Assert.Equal(Enum.GetValues<DeliveryState>().Order(), Reachable(DeliveryState.Pending, RecipientLife.Deliveries).Order());
        Assert.Equal(Enum.GetValues<PushState>().Order(), Reachable(PushState.Pending, RecipientLife.Pushes).Order());
        foreach (var end in new[] { DeliveryState.Withheld, DeliveryState.Failed, DeliveryState.Withdrawn, DeliveryState.Acknowledged })
        {
            Assert.All(Enum.GetValues<DeliveryState>(), to => Assert.False(RecipientLife.Allows(end, to), $"{end} → {to}"));
        }
        Assert.False(RecipientLife.Allows(DeliveryState.Delivered, DeliveryState.Withdrawn), "a copy the recipient has is never withdrawn");
        Assert.False(RecipientLife.Allows(PushState.Delivered, PushState.Pending), "a delivered push is never sent again");
    }

    private static HashSet<T> Reachable<T>(T start, IReadOnlyDictionary<T, T[]> edges) where T : struct, Enum
    {
        var seen = new HashSet<T> { start };
        var queue = new Queue<T>([start]);
        while (queue.TryDequeue(out var from))
        {
            foreach (var to in edges[from].Where(seen.Add))
            {
                queue.Enqueue(to);
            }
        }
        return seen;
    }
}
