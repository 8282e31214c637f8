using TOEX.Sharing.Gateway.Release;

namespace TOEX.Sharing.Gateway.Core;

/// <summary>Wakes the webhook dispatcher when a push was queued or sent back by an operator.</summary>
public sealed class WebhookSignal : WakeSignal;

/// <summary>Whether a partner takes push delivery (the policy set says so): a release queues its push.</summary>
public interface IPushPartners
{
    bool IsPush(string partner);
}
