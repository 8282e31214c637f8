namespace TOEX.Sharing.Gateway.Release;

/// <summary>
/// The loop of the gateway's re-senders (<see cref="AuditResender"/>, <see cref="DecisionResender"/>): a round four times per
/// re-send interval (between 25 ms and 5 s apart), so nothing is re-sent more than a quarter interval late; a failed round
/// is logged and tried again at the next.
/// </summary>
public abstract class ResendLoop(TimeProvider time, ILogger logger) : BackgroundService
{
    /// <summary>The clock the rounds and the re-senders' waits are measured by.</summary>
    protected TimeProvider Time { get; } = time;

    /// <summary>The re-send interval the rounds are paced by.</summary>
    protected abstract TimeSpan Interval { get; }

    /// <summary>What the log says when a round fails.</summary>
    protected abstract string RoundFailed { get; }

    /// <summary>One round: re-sends whatever is due.</summary>
    protected abstract Task RoundAsync(CancellationToken cancellationToken);

    /// <summary>The wait before the next re-send of something sent <paramref name="attempts"/> times: the interval, doubled per re-send, capped.</summary>
    public static TimeSpan Backoff(int attempts, TimeSpan interval, TimeSpan max)
    {
        var doublings = Math.Clamp(attempts - 1, 0, 30);
        var ticks = interval.Ticks * Math.Pow(2, doublings);
        return ticks >= max.Ticks ? max : TimeSpan.FromTicks((long)ticks);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var poll = TimeSpan.FromTicks(Math.Clamp(Interval.Ticks / 4, TimeSpan.FromMilliseconds(25).Ticks, TimeSpan.FromSeconds(5).Ticks));
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(poll, Time, stoppingToken);
                await RoundAsync(stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e)
            {
#pragma warning disable CA2254 // The message is each subclass's constant.
                logger.LogWarning(e, RoundFailed);
#pragma warning restore CA2254
            }
        }
    }
}
