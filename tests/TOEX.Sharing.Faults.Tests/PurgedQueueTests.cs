using System.Globalization;
using System.Text.RegularExpressions;
using TOEX.Sharing.Contracts;
using TOEX.Sharing.Testing;
using Xunit.Abstractions;

namespace TOEX.Sharing.Faults.Tests;

/// <summary>
/// Item 6: messages lost on the broker, as an operator purging queues loses them (<c>rabbitmqctl purge_queue</c> on the
/// private node). The gateway publishes again every event the audit ledger has not confirmed
/// (<c>Gateway:AuditResendInterval</c>), so every ledger entry is recovered and the audit-lag hold clears by itself.
/// </summary>
public sealed partial class PurgedQueueTests(ITestOutputHelper output)
{
    /// <summary>Short intervals, so that the hold trips during the outage and the re-sends come within seconds.</summary>
    private static readonly Dictionary<string, string?> Settings = new()
    {
        ["Gateway__AuditLagLimit"] = "00:00:10",
        ["Gateway__AuditResendInterval"] = "00:00:02",
        ["Gateway__AuditResendMaxInterval"] = "00:00:08",
        // A package whose decision the purge lost is asked of PolicyDecision again after 5 s (then 10 s, 20 s at most).
        ["Gateway__DecisionResendInterval"] = "00:00:05",
        ["Gateway__DecisionResendMaxInterval"] = "00:00:20",
    };

    /// <summary>
    /// The audit worker's queues of the gateway's outbox events (its endpoint names: <c>audit-</c>, the consumer, kebab-case):
    /// the batches' (where the gateway's events go now) and each event type's own (an older gateway's).
    /// </summary>
    private static readonly HashSet<string> AuditQueuesOfGatewayEvents =
        [.. GatewayOutboxEvents.Types.Select(t => $"audit-{Kebab(t.Name)}-audit"), $"audit-{Kebab(nameof(GatewayEventBatch))}-audit"];

    /// <summary>Messages (batches of one or more of the gateway's events) waiting in those queues when they are purged.</summary>
    private const int PurgedAtLeast = 5;

    [Fact]
    public async Task The_audit_workers_queues_purged_mid_run_lose_no_ledger_entry_and_releases_resume_by_themselves()
    {
        var packages = FaultRun.Size(150, 1500);
        var log = new RunLog(output.WriteLine);
        log.Write($"{FaultRun.Variant} variant: {packages} packages, the audit worker's queues of the gateway's events purged once");
        var (broker, vhost) = await FaultRun.PrivateBrokerAsync();
        await using var _ = broker;
        await using var stack = await FaultServices.StartAsync(new FaultStackOptions { BrokerUri = service => broker.ServiceUriAsync(vhost, service), Settings = Settings });
        var workload = new Workload(stack, "P");
        var run = workload.RunAsync(0, packages, 8);
        await FaultRun.UntilAsync(stack, () => Task.FromResult(workload.Submitted >= packages / 3), TimeSpan.FromMinutes(5), "a third accepted");

        // The audit worker stops (its events wait in its queues), and the operator purges them before it returns.
        await stack.KillAsync(Service.Audit);
        log.Write($"audit worker killed after {workload.Submitted} packages accepted");
        string? reason = null;
        await FaultRun.UntilAsync(stack, async () => (reason = (await Health.ReadAsync(stack.Gateway)).Reason("audit-ledger")) is not null,
            TimeSpan.FromMinutes(2), "the gateway's /health to report the audit-lag hold");
        log.Write($"gateway /health during the outage: {reason}");
        Assert.Matches(OldestUnconfirmed(), reason!);
        await FaultRun.UntilAsync(stack, async () => (await DepthsAsync(broker, vhost)).Where(q => AuditQueuesOfGatewayEvents.Contains(q.Key)).Sum(q => q.Value) >= PurgedAtLeast,
            TimeSpan.FromMinutes(2), $"{PurgedAtLeast} batches of the gateway's events waiting in the audit worker's queues");
        var purged = await PurgeAsync(broker, vhost, AuditQueuesOfGatewayEvents.Contains);
        log.Write($"purged {Describe(purged)}");
        Assert.True(purged.Values.Sum() >= PurgedAtLeast);

        await stack.RestartAsync(Service.Audit);
        var restarted = workload.Now;
        await FaultRun.UntilAsync(stack, async () => (await Health.ReadAsync(stack.Gateway)).Reason("audit-ledger") is null,
            TimeSpan.FromMinutes(FaultRun.Size(3, 10)), "the audit-lag hold to clear by itself");
        log.Write($"audit-lag hold cleared by itself {FaultRun.Seconds(workload.Now - restarted)} after the audit worker's return");

        await run;
        log.Write($"all submitted: {workload.Summary}");
        var balance = await stack.SettleAsync(workload.Accepted, TimeSpan.FromMinutes(FaultRun.Size(3, 15)));
        await WaitAllConfirmedAsync(stack);
        log.Write(string.Create(CultureInfo.InvariantCulture,
            $"{balance.Line} | faults injected: audit worker's queues purged ({purged.Values.Sum()} messages)"));
        Assert.Empty(workload.Errors);
        Assert.True(balance.Holds, balance.Report());
    }

    [Fact]
    public async Task The_gateways_queues_purged_lose_no_ledger_entry_and_the_decisions_purged_are_asked_for_again_and_released_once()
    {
        var (before, during, after) = (FaultRun.Size(40, 600), FaultRun.Size(10, 200), FaultRun.Size(30, 600));
        var log = new RunLog(output.WriteLine);
        log.Write($"{FaultRun.Variant} variant: {before} + {during} + {after} packages, the gateway's queues purged once");
        var (broker, vhost) = await FaultRun.PrivateBrokerAsync();
        await using var _ = broker;
        await using var stack = await FaultServices.StartAsync(new FaultStackOptions { BrokerUri = service => broker.ServiceUriAsync(vhost, service), Settings = Settings });
        var workload = new Workload(stack, "G");

        // The audit worker down for the first packages (their events wait for it), then PolicyDecision down for the next
        // ones (accepted, not decided); then the gateway stops, and the two return: PolicyDecision decides, the ledger
        // records the backlog and confirms it. The decisions and the confirmations wait in the gateway's queues, which the
        // operator purges before the gateway returns.
        await stack.KillAsync(Service.Audit);
        await workload.RunAsync(0, before, 8);
        await FaultRun.UntilAsync(stack, async () => await stack.GatewayStore.ScalarAsync("""SELECT COUNT(*) FROM "Recipients" WHERE "Outcome" IS NULL""") == 0,
            TimeSpan.FromMinutes(2), $"the gateway to act on the decisions of the first {before} packages");
        await stack.KillAsync(Service.PolicyDecision);
        var undecided = new Workload(stack, "U");
        await undecided.RunAsync(before, before + during, 8);
        await stack.KillAsync(Service.Gateway);
        log.Write($"{before} packages accepted while the audit worker was down, {during} more while PolicyDecision was down too; gateway killed");
        await stack.RestartAsync(Service.PolicyDecision);
        await stack.RestartAsync(Service.Audit);
        var depths = new Dictionary<string, long>();
        await FaultRun.UntilAsync(stack, async () => (depths = await DepthsAsync(broker, vhost)).GetValueOrDefault("gateway-sharing-decided") == during
                && depths.GetValueOrDefault("gateway-audit-recorded") > 0,
            TimeSpan.FromMinutes(2), () => $"{during} decisions and the ledger's confirmations waiting in the gateway's queues (queues: {Describe(depths)})");
        var purged = await PurgeAsync(broker, vhost, q => q.StartsWith("gateway-", StringComparison.Ordinal));
        log.Write($"purged {Describe(purged)}");
        Assert.Equal(during, purged["gateway-sharing-decided"]);
        Assert.True(purged["gateway-audit-recorded"] > 0);

        await stack.RestartAsync(Service.Gateway);
        await workload.RunAsync(before + during, before + during + after, 8);
        log.Write($"all submitted: {workload.Summary}; while PolicyDecision was down: {undecided.Summary}");

        // What the purge lost: the decisions of the packages accepted while PolicyDecision was down. The gateway asks
        // PolicyDecision for each again (the same submission, the same message id), acts on the decision made again, and the
        // ledger takes it for the one it has: every package balances, each released once, every event in the ledger.
        var lost = undecided.Accepted.ToHashSet();
        var balance = await stack.SettleAsync([.. workload.Accepted, .. lost], TimeSpan.FromMinutes(FaultRun.Size(3, 15)));
        await WaitAllConfirmedAsync(stack);
        log.Write($"{balance.Line} | faults injected: gateway's queues purged ({purged.Values.Sum()} messages), {lost.Count} decisions among them asked for again");
        var outcomes = (await stack.GatewayStore.RowsAsync("""SELECT "PackageId", "Outcome" FROM "Recipients" """))
            .Where(r => lost.Contains(Guid.Parse(r[0]!))).ToList();
        var ledger = (await stack.AuditStore.RowsAsync("""SELECT "Type", "PackageId" FROM "Entries" WHERE "PackageId" IS NOT NULL"""))
            .Where(r => lost.Contains(Guid.Parse(r[1]!))).ToList();
        var copies = stack.Deliveries().Copies.Where(c => lost.Contains(c.PackageId)).ToList();
        log.Write($"decisions purged: {lost.Count} packages, decided at the gateway after the re-request ({outcomes.Count(r => r[1] is not null)} of "
            + $"{outcomes.Count} recipients with an outcome), in the ledger as {ledger.Count(r => r[0] == "submission")} submissions and "
            + $"{ledger.Count(r => r[0] == "decision")} decisions, {copies.Count} copies received");

        Assert.Empty(workload.Errors);
        Assert.Empty(undecided.Errors);
        Assert.True(balance.Holds, balance.Report());
        Assert.Equal(during, lost.Count);
        Assert.Equal(lost.Order(), outcomes.Select(r => Guid.Parse(r[0]!)).Distinct().Order());
        Assert.All(outcomes, r => Assert.NotNull(r[1]));
        Assert.Equal(lost.Count, ledger.Count(r => r[0] == "submission"));
        Assert.Equal(lost.Order(), ledger.Where(r => r[0] == "decision").Select(r => Guid.Parse(r[1]!)).Distinct().Order());
        // Released, once (the balance counts a copy received twice as a duplicate).
        Assert.NotEmpty(copies);
        Assert.Equal((balance.Accepted, 0, 0), (balance.Decided, balance.Lost, balance.Duplicates));
        Assert.Equal(balance.Events, balance.LedgerEntries);
    }

    /// <summary>Until the gateway's outbox has no event the ledger has not confirmed.</summary>
    private static Task WaitAllConfirmedAsync(FaultServices stack) =>
        FaultRun.UntilAsync(stack, async () => await stack.GatewayStore.ScalarAsync("""SELECT COUNT(*) FROM "Outbox" WHERE "ConfirmedAt" IS NULL""") == 0,
            TimeSpan.FromMinutes(FaultRun.Size(2, 10)), "every event of the gateway's outbox confirmed by the ledger");

    /// <summary>Every queue of the run's virtual host and the messages in it.</summary>
    private static async Task<Dictionary<string, long>> DepthsAsync(RabbitMqBroker broker, BrokerVhost vhost)
    {
        var listing = await broker.ControlAsync(default, "list_queues", "-q", "--no-table-headers", "-p", vhost.Name, "name", "messages");
        return listing.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(line => line.Split('\t', StringSplitOptions.TrimEntries))
            .Where(parts => parts.Length == 2 && long.TryParse(parts[1], CultureInfo.InvariantCulture, out _))
            .ToDictionary(parts => parts[0], parts => long.Parse(parts[1], CultureInfo.InvariantCulture));
    }

    /// <summary>Purges, as an operator would, every queue <paramref name="which"/> names that holds messages; returns what each held.</summary>
    private static async Task<Dictionary<string, long>> PurgeAsync(RabbitMqBroker broker, BrokerVhost vhost, Func<string, bool> which)
    {
        var purged = new Dictionary<string, long>();
        foreach (var (queue, depth) in (await DepthsAsync(broker, vhost)).Where(q => which(q.Key) && q.Value > 0))
        {
            await broker.ControlAsync(default, "purge_queue", "-p", vhost.Name, queue);
            purged[queue] = depth;
        }
        return purged;
    }

    private static string Describe(Dictionary<string, long> purged) =>
        string.Join(", ", purged.OrderBy(q => q.Key, StringComparer.Ordinal).Select(q => string.Create(CultureInfo.InvariantCulture, $"{q.Key} ({q.Value})")));

    private static string Kebab(string name) => UpperCase().Replace(name, "-$1").TrimStart('-').ToLowerInvariant();

    [GeneratedRegex("([A-Z])")]
    private static partial Regex UpperCase();

    [GeneratedRegex(@"The oldest unconfirmed is [A-Za-z]+ [0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}, published [0-9]+ time\(s\) so far")]
    private static partial Regex OldestUnconfirmed();
}
