using System.Globalization;
using System.Net;
using TOEX.Sharing.Testing;
using Xunit.Abstractions;

namespace TOEX.Sharing.Faults.Tests;

/// <summary>
/// Item 7: RabbitMQ's disk alarm raised mid-run (<c>rabbitmqctl set_disk_free_limit</c> above the free space). The
/// gateway answers submissions 503 with Retry-After and says why in <c>/health</c>; once the alarm clears, the run
/// completes and nothing is lost.
/// </summary>
public sealed class DiskAlarmTests(ITestOutputHelper output)
{
    [Fact]
    public async Task A_disk_alarm_refuses_submissions_saying_why_and_loses_nothing_once_it_clears()
    {
        var packages = FaultRun.Size(200, 2000);
        var log = new RunLog(output.WriteLine);
        var (broker, vhost) = await FaultRun.PrivateBrokerAsync();
        await using var _ = broker;
        await using var stack = await FaultServices.StartAsync(new FaultStackOptions { BrokerUri = service => broker.ServiceUriAsync(vhost, service) });
        var workload = new Workload(stack, "D");
        // Half before the alarm, half sent while it is up (refused, then retried until it clears): under load the broker's
        // control command could take longer than the rest of the run, which left none to be refused (seen at load 16-20).
        var half = packages / 2;
        await workload.RunAsync(0, half, 8);

        // A petabyte free is more than this machine has: the alarm goes off at once.
        await broker.ControlAsync(default, "set_disk_free_limit", "1000000000000000");
        var raised = workload.Now;
        log.Write($"disk alarm raised after {workload.Submitted} packages accepted");
        await FaultRun.UntilAsync(stack, async () => (await Health.ReadAsync(stack.Gateway)).Status == HttpStatusCode.ServiceUnavailable,
            TimeSpan.FromSeconds(60), "the gateway's /health to answer 503");
        var known = workload.Now;
        var run = workload.RunAsync(half, packages, 8);
        var health = await Health.ReadAsync(stack.Gateway);
        log.Write($"gateway /health during the alarm: {health}");
        Assert.Contains("disk", health.Reason("broker") ?? "", StringComparison.Ordinal);
        var refusedBefore = workload.Unavailable;
        await FaultRun.UntilAsync(stack, () => Task.FromResult(workload.Unavailable >= refusedBefore + 20), TimeSpan.FromSeconds(60),
            "submissions answered 503 during the alarm");
        var clearing = workload.Now;
        var acceptedDuringAlarm = workload.AcceptedWithin(known, clearing);

        await broker.ControlAsync(default, "set_disk_free_limit", "50000000");
        log.Write($"disk alarm cleared after {FaultRun.Seconds(workload.Now - raised)}; {workload.Summary}");
        await run;
        var balance = await stack.SettleAsync(workload.Accepted, TimeSpan.FromMinutes(FaultRun.Size(3, 15)));
        log.Write(string.Create(CultureInfo.InvariantCulture,
            $"{balance.Line} | faults injected: 1 disk alarm | 202 answered to requests sent once /health reported the alarm: {acceptedDuringAlarm}"));
        Assert.Empty(workload.Errors);
        Assert.Equal(0, acceptedDuringAlarm);
        Assert.True(balance.Holds, balance.Report());
    }
}
