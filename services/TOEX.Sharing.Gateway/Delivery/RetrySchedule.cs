using Microsoft.Extensions.Options;

namespace TOEX.Sharing.Gateway.Delivery;

/// <summary>
/// Exponential backoff with jitter: after failed attempt <c>n</c> the next waits
/// <c>min(FirstRetryDelay × 2^(n-1), MaxRetryDelay)</c> times a random factor in <c>[1 - Jitter, 1 + Jitter]</c>.
/// </summary>
public sealed class RetrySchedule(IOptions<WebhookOptions> options)
{
    public TimeSpan Delay(int failedAttempts)
    {
        var o = options.Value;
        var exponent = Math.Clamp(failedAttempts - 1, 0, 30);
        var plain = Math.Min(o.FirstRetryDelay.TotalMilliseconds * Math.Pow(2, exponent), o.MaxRetryDelay.TotalMilliseconds);
        var factor = 1 + ((Random.Shared.NextDouble() * 2) - 1) * o.Jitter;
        return TimeSpan.FromMilliseconds(plain * factor);
    }

    /// <summary>What the schedule waits for a Retry-After answer: the partner's wait, within 1 s and the longest delay.</summary>
    public TimeSpan Honour(TimeSpan retryAfter) =>
        retryAfter < TimeSpan.FromSeconds(1) ? TimeSpan.FromSeconds(1)
        : retryAfter > options.Value.MaxRetryDelay ? options.Value.MaxRetryDelay : retryAfter;
}
