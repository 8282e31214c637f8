using System.Diagnostics;
using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using TOEX.Sharing.Testing;
using Xunit.Abstractions;

namespace TOEX.Sharing.Faults.Tests;

/// <summary>
/// Item 9: readiness that tells the truth. The broker node is killed (SIGKILL) under the three services: both HTTP
/// services answer <c>/health</c> 503 naming the broker under <c>reasons</c> while <c>/alive</c> stays 200; the gateway
/// refuses a submission at once (503, Retry-After) instead of holding it for its publish timeout (30 s here); and once
/// the node is back, readiness returns and the consumers resume within a few seconds.
/// </summary>
public sealed class ReadinessTests(ITestOutputHelper output)
{
    /// <summary>"Within a few seconds" of the broker's return, with room for a loaded machine (measured: see the output).</summary>
    private static readonly TimeSpan ResumeLimit = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task Health_names_the_broker_while_it_is_down_submissions_are_refused_at_once_and_consumers_resume_within_seconds()
    {
        var log = new RunLog(output.WriteLine);
        var (broker, vhost) = await FaultRun.PrivateBrokerAsync();
        await using var _ = broker;
        await using var stack = await FaultServices.StartAsync(new FaultStackOptions
        {
            BrokerUri = service => broker.ServiceUriAsync(vhost, service),
            Settings = { ["Gateway__PublishTimeout"] = "00:00:30" },
        });
        var workload = new Workload(stack, "R");
        await workload.RunAsync(0, 5, 5);
        Assert.True((await Health.ReadAsync(stack.Gateway)).Ready);

        await broker.KillAsync();
        log.Write("broker node killed (SIGKILL)");
        foreach (var service in new[] { stack.Gateway, stack.Audit })
        {
            await FaultRun.UntilAsync(stack, async () => (await Health.ReadAsync(service)).Status == HttpStatusCode.ServiceUnavailable,
                TimeSpan.FromSeconds(30), $"{service} /health to answer 503");
            var health = await Health.ReadAsync(service);
            log.Write($"{service} /health while the broker is down: {health}");
            Assert.Contains("broker", health.Reason("broker") ?? "", StringComparison.Ordinal);
            Assert.Equal(HttpStatusCode.OK, (await Health.ReadAsync(service, "/alive")).Status);
        }

        // Refused at once, with Retry-After and the reason; nothing recorded.
        using var submitter = stack.Client(stack.Gateway, "rocu-wm", "Packages.Submit");
        var package = JsonNode.Parse(await File.ReadAllTextAsync(Path.Combine(RepoPaths.Root, "deploy", "samples", "rocuwm-2026-000124.json")))!;
        package["reference"] = "ROCUWM-2026-R-OUTAGE";
        var clock = Stopwatch.StartNew();
        using var refused = await submitter.PostAsync("/api/v1/packages", new StringContent(package.ToJsonString(), Encoding.UTF8, "application/json"));
        var answeredIn = clock.Elapsed;
        log.Write($"a submission while the broker is down: {(int)refused.StatusCode} in {FaultRun.Seconds(answeredIn)}, Retry-After {refused.Headers.RetryAfter}");
        Assert.Equal(HttpStatusCode.ServiceUnavailable, refused.StatusCode);
        Assert.NotNull(refused.Headers.RetryAfter?.Delta);
        Assert.Equal("application/problem+json", refused.Content.Headers.ContentType?.MediaType);
        Assert.True(answeredIn < TimeSpan.FromSeconds(5), $"answered in {FaultRun.Seconds(answeredIn)}: held, not refused at once (publish timeout 30 s)");
        Assert.Equal(0, await stack.GatewayStore.ScalarAsync("""SELECT COUNT(*) FROM "Submissions" WHERE "Reference" = 'ROCUWM-2026-R-OUTAGE'"""));

        await broker.StartAsync();
        clock.Restart();
        log.Write("broker node restarted");
        await FaultRun.UntilAsync(stack, async () => (await Health.ReadAsync(stack.Gateway)).Ready, TimeSpan.FromSeconds(60), "the gateway ready again");
        var gatewayReady = clock.Elapsed;
        await FaultRun.UntilAsync(stack, async () => (await Health.ReadAsync(stack.Audit)).Ready, TimeSpan.FromSeconds(60), "the audit service ready again");
        var auditReady = clock.Elapsed;
        // A package submitted now is decided, released, received and in the ledger only if every service's consumers are back.
        var before = workload.Accepted;
        await workload.RunAsync(5, 6, 1);
        var last = workload.Accepted.Except(before).Single();
        Balance? single = null;
        await FaultRun.UntilAsync(stack, async () => (single = await stack.BalanceAsync(workload.Accepted)).Holds && (await stack.BalanceAsync([last])).Delivered > 0,
            TimeSpan.FromSeconds(60), () => $"a package submitted after the return decided, released, received and in the ledger: {single?.Report()}");
        var resumed = clock.Elapsed;
        log.Write($"after the broker's return: gateway ready in {FaultRun.Seconds(gatewayReady)}, audit ready in {FaultRun.Seconds(auditReady)}, "
            + $"a new package decided, released and in the ledger in {FaultRun.Seconds(resumed)}");

        var balance = await stack.SettleAsync(workload.Accepted, TimeSpan.FromMinutes(2));
        log.Write(balance.Line);
        Assert.True(balance.Holds, balance.Report());
        Assert.True(gatewayReady <= ResumeLimit && auditReady <= ResumeLimit && resumed <= ResumeLimit + TimeSpan.FromSeconds(5),
            $"readiness {FaultRun.Seconds(gatewayReady)} / {FaultRun.Seconds(auditReady)}, consumers {FaultRun.Seconds(resumed)} after the broker's return");
    }
}
