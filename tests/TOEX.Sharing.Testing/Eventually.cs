using System.Diagnostics;

namespace TOEX.Sharing.Testing;

/// <summary>
/// Waits for state a test does not own (another process, a background service) to reach what the test expects.
/// The deadline is measured on a monotonic stopwatch. Between probes it awaits the source's own signal of a change
/// when it has one (<paramref name="changed"/>, e.g. <see cref="OtlpReceiver.NextExportAsync"/>); otherwise it probes
/// again after a short interval.
/// </summary>
public static class Eventually
{
    private static readonly TimeSpan DefaultPoll = TimeSpan.FromMilliseconds(50);

    /// <summary>
    /// The first non-null answer of <paramref name="probe"/>; after <paramref name="timeout"/>, a
    /// <see cref="TimeoutException"/> with <paramref name="failure"/>'s description (called then, so it can show the last state).
    /// </summary>
    public static async Task<T> ValueAsync<T>(Func<Task<T?>> probe, TimeSpan timeout, Func<string> failure,
        Func<Task>? changed = null, TimeSpan? poll = null) where T : class
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            // Taken before the probe, so a change while it runs is not missed.
            var next = changed?.Invoke();
            if (await probe() is { } value)
            {
                return value;
            }
            var left = timeout - clock.Elapsed;
            if (left <= TimeSpan.Zero)
            {
                throw new TimeoutException(failure());
            }
            if (next is null)
            {
                await Task.Delay(left < (poll ?? DefaultPoll) ? left : poll ?? DefaultPoll);
                continue;
            }
            try
            {
                await next.WaitAsync(left);
            }
            catch (TimeoutException)
            {
                // No change before the deadline: the next probe is the last.
            }
        }
    }

    /// <summary>Waits until <paramref name="condition"/> holds (see <see cref="ValueAsync{T}"/>).</summary>
    public static Task UntilAsync(Func<Task<bool>> condition, TimeSpan timeout, Func<string> failure,
        Func<Task>? changed = null, TimeSpan? poll = null) =>
        ValueAsync(async () => await condition() ? "" : null, timeout, failure, changed, poll);
}
