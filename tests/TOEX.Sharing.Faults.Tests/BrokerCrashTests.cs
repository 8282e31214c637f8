using TOEX.Sharing.Testing;
using Xunit.Abstractions;

namespace TOEX.Sharing.Faults.Tests;

/// <summary>
/// Item 1: the broker node SIGKILLed several times during a run and started again. Every package answered 202 is
/// decided, released to exactly its permitted recipients once (one webhook-id, one feed item each) and in the ledger
/// once; submissions during each outage are answered 503 with Retry-After, and no 202 is answered for a request made
/// and answered while the node was down.
/// </summary>
public sealed class BrokerCrashTests(ITestOutputHelper output)
{
    [Fact]
    public async Task The_broker_killed_mid_run_several_times_loses_nothing_and_doubles_nothing()
    {
        var packages = FaultRun.Size(300, 3000);
        var kills = FaultRun.Size(2, 6);
        var log = new RunLog(output.WriteLine);
        log.Write($"{FaultRun.Variant} variant: {packages} packages, the broker node killed {kills} times");
        var (broker, vhost) = await FaultRun.PrivateBrokerAsync();
        await using var _ = broker;
        await using var stack = await FaultServices.StartAsync(new FaultStackOptions { BrokerUri = service => broker.ServiceUriAsync(vhost, service) });
        var workload = new Workload(stack, "K");
        var run = workload.RunAsync(0, packages, 8);

        var falseAccepted = 0;
        for (var kill = 1; kill <= kills && !run.IsCompleted; kill++)
        {
            var progress = packages * kill / (kills + 1);
            await FaultRun.UntilAsync(stack, () => Task.FromResult(workload.Submitted >= progress || run.IsCompleted),
                TimeSpan.FromMinutes(10), $"{progress} packages accepted");
            var refusedBefore = workload.Unavailable + workload.ConnectionFailures;
            await broker.KillAsync();
            var down = workload.Now;
            log.Write($"kill {kill}: broker node SIGKILLed after {workload.Submitted} packages accepted");
            // The outage lasts until the submitters have been refused a few times (each 503 with Retry-After).
            await FaultRun.UntilAsync(stack, () => Task.FromResult(workload.Unavailable + workload.ConnectionFailures >= refusedBefore + 5 || run.IsCompleted),
                TimeSpan.FromSeconds(60), "submissions refused during the outage");
            var restarting = workload.Now;
            await broker.StartAsync();
            falseAccepted += workload.AcceptedWithin(down, restarting);
            log.Write($"kill {kill}: node restarted after {FaultRun.Seconds(workload.Now - down)} down; {workload.Summary}");
        }
        await run;
        log.Write($"all submitted: {workload.Summary}");

        var balance = await stack.SettleAsync(workload.Accepted, TimeSpan.FromMinutes(FaultRun.Size(3, 15)));
        log.Write($"{balance.Line} | faults injected: {kills} broker kills | 202 answered during an outage: {falseAccepted}");
        if (!balance.Holds)
        {
            log.Write(await FaultRun.PostMortemAsync(broker, vhost, stack));
        }
        Assert.Empty(workload.Errors);
        Assert.Equal(0, falseAccepted);
        Assert.Equal(packages, balance.Accepted);
        Assert.True(balance.Holds, balance.Report());
    }
}
