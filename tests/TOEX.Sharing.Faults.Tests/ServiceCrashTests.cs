using System.Globalization;
using TOEX.Sharing.Testing;
using Xunit.Abstractions;

namespace TOEX.Sharing.Faults.Tests;

/// <summary>
/// Item 2: the gateway, PolicyDecision and the audit worker SIGKILLed at random points of a run, several times each,
/// and started again on the same store, broker and port. Submissions while the gateway is down find no gateway and are
/// sent again with the same reference (which the gateway answers with the same package); every package answered 202
/// is decided, released to exactly its permitted recipients once and in the ledger once. The random points come from
/// a seeded generator: the seed is printed, and <c>TOEX_FAULTS_SEED</c> replays a run.
/// </summary>
public sealed class ServiceCrashTests(ITestOutputHelper output)
{
    public const string SeedVariable = "TOEX_FAULTS_SEED";

    [Fact]
    public async Task The_services_killed_at_random_points_lose_nothing_and_double_nothing()
    {
        var packages = FaultRun.Size(300, 3000);
        var killsEach = FaultRun.Size(2, 6);
        var seed = int.TryParse(Environment.GetEnvironmentVariable(SeedVariable), NumberStyles.Integer, CultureInfo.InvariantCulture, out var given)
            ? given : Random.Shared.Next();
        var random = new Random(seed);
        // Each service killed killsEach times, in a random order, at random points between 5% and 90% of the run.
        var faults = Enum.GetValues<Service>().SelectMany(s => Enumerable.Repeat(s, killsEach)).OrderBy(_ => random.Next()).ToList();
        var points = faults.Select(_ => packages * random.Next(5, 91) / 100).Order().ToList();
        var log = new RunLog(output.WriteLine);
        log.Write($"{FaultRun.Variant} variant: {packages} packages, {faults.Count} kills ({killsEach} each of the gateway, PolicyDecision "
            + $"and the audit worker); seed {seed} ({SeedVariable}={seed} replays it)");

        var (broker, vhost) = await FaultRun.PrivateBrokerAsync();
        await using var _ = broker;
        await using var stack = await FaultServices.StartAsync(new FaultStackOptions { BrokerUri = service => broker.ServiceUriAsync(vhost, service) });
        var workload = new Workload(stack, "S");
        var run = workload.RunAsync(0, packages, 8);

        for (var i = 0; i < faults.Count; i++)
        {
            var service = faults[i];
            await FaultRun.UntilAsync(stack, () => Task.FromResult(workload.Submitted >= points[i] || run.IsCompleted),
                TimeSpan.FromMinutes(10), $"{points[i]} packages accepted");
            var failedBefore = workload.ConnectionFailures;
            var acceptedBefore = workload.Submitted;
            await stack.KillAsync(service);
            var down = workload.Now;
            log.Write($"kill {i + 1}/{faults.Count}: {service} SIGKILLed after {acceptedBefore} packages accepted");
            // How long it stays down: until the submitters have found no gateway a few times, or, for the other two,
            // until the gateway has accepted a few more packages without them (or the run has ended).
            var more = random.Next(2, 12);
            await FaultRun.UntilAsync(stack, () => Task.FromResult(run.IsCompleted || (service == Service.Gateway
                    ? workload.ConnectionFailures >= failedBefore + more
                    : workload.Submitted >= acceptedBefore + more)),
                TimeSpan.FromMinutes(2), $"the run to go on without {service}");
            await stack.RestartAsync(service);
            log.Write($"kill {i + 1}/{faults.Count}: {service} restarted and ready after {FaultRun.Seconds(workload.Now - down)}; {workload.Summary}");
        }
        await run;
        log.Write($"all submitted: {workload.Summary}");

        var balance = await stack.SettleAsync(workload.Accepted, TimeSpan.FromMinutes(FaultRun.Size(3, 15)));
        log.Write(string.Create(CultureInfo.InvariantCulture,
            $"{balance.Line} | faults injected: {faults.Count(f => f == Service.Gateway)} gateway, {faults.Count(f => f == Service.PolicyDecision)} "
            + $"PolicyDecision, {faults.Count(f => f == Service.Audit)} audit kills | seed {seed}"));
        Assert.Empty(workload.Errors);
        Assert.Equal(packages, balance.Accepted);
        Assert.True(balance.Holds, balance.Report());
    }
}
