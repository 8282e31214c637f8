using System.Globalization;
using TOEX.Sharing.Testing;
using Xunit.Abstractions;

namespace TOEX.Sharing.Faults.Tests;

/// <summary>
/// Item 3: the services on a three-node RabbitMQ cluster (private nodes on loopback ports, <c>RabbitMq:Nodes</c> naming
/// all three), their queues quorum queues with a member on every node. One node is stopped mid-run (SIGKILL), half a
/// segment of the run is submitted without it, it is started again, and once every queue is back on all three nodes
/// another is stopped (cleanly) the same way; the first node stopped is the one every service connected to first. The
/// services reconnect to the nodes left by themselves (none is restarted) and answer <c>/health</c> 200 again while the
/// node is still down; every submission answered during a stop is 202 (the cluster still has a quorum, and the balance
/// proves the package was kept) or 503 with Retry-After, never anything else; nothing is lost or doubled.
/// </summary>
public sealed class ClusterTests(ITestOutputHelper output)
{
    [Fact]
    public async Task Nodes_of_a_three_node_cluster_stopped_in_turn_lose_nothing_and_the_services_reconnect_by_themselves()
    {
        var faults = FaultRun.Size(2, 6);
        var segment = FaultRun.Size(100, 500);
        var packages = segment * (faults + 1);
        var log = new RunLog(output.WriteLine);
        log.Write($"{FaultRun.Variant} variant: {packages} packages on a {RabbitMqCluster.Size}-node cluster, {faults} nodes stopped in turn");
        await using var cluster = await RabbitMqCluster.StartAsync();
        log.Write($"cluster of {string.Join(", ", cluster.Nodes)} formed in {FaultRun.Seconds(cluster.StartupTime)}");
        var vhost = await cluster.CreateVirtualHostAsync("faults-cluster");
        await using var stack = await FaultServices.StartAsync(new FaultStackOptions
        {
            BrokerUri = service => cluster.ServiceUriAsync(vhost, service),
            Nodes = cluster.OtherNodes,
        });
        var queues = await cluster.WaitUntilReplicatedAsync(vhost.Name, TimeSpan.FromSeconds(60));
        log.Write($"the services' queues:{Environment.NewLine}{RabbitMqCluster.Describe(queues)}");
        AssertReplicated(queues);

        var workload = new Workload(stack, "C");
        var answeredDuringStops = (Accepted: 0, Refused: 0);
        for (var fault = 0; fault <= faults; fault++)
        {
            // A segment of the run. Each fault but the last strikes a quarter of the way through one, with submissions in
            // flight; once that first half is done, the second half is submitted with the node still down: it completes
            // on the two nodes left. The last segment runs on the whole cluster again.
            var first = fault * segment;
            var half = first + segment / 2;
            if (fault == faults)
            {
                await workload.RunAsync(first, first + segment, 8);
                break;
            }
            var run = workload.RunAsync(first, half, 8);
            var node = cluster.Nodes[fault % RabbitMqCluster.Size];
            var kill = fault % 2 == 0;
            var target = first + segment / 4;
            await FaultRun.UntilAsync(stack, () => Task.FromResult(workload.Submitted >= target || run.IsCompleted),
                TimeSpan.FromMinutes(5), $"{target} packages accepted");
            var refusedBefore = workload.Unavailable;
            var down = workload.Now;
            var acceptedBefore = workload.Submitted;
            if (kill)
            {
                await cluster.KillNodeAsync(node);
            }
            else
            {
                await cluster.StopNodeAsync(node);
            }
            log.Write($"fault {fault + 1}: {node} {(kill ? "SIGKILLed" : "stopped (rabbitmqctl stop)")}: {acceptedBefore} packages accepted before, "
                + $"{workload.Submitted} once it was down");
            await run;
            await workload.RunAsync(half, first + segment, 8);
            var returning = workload.Now;
            var accepted = workload.AcceptedWithin(down, returning);
            answeredDuringStops = (answeredDuringStops.Accepted + accepted, answeredDuringStops.Refused + workload.Unavailable - refusedBefore);
            log.Write(string.Create(CultureInfo.InvariantCulture,
                $"fault {fault + 1}: the segment completed on the two nodes left in {FaultRun.Seconds(returning - down)}: "
                + $"{accepted} answered 202 and {workload.Unavailable - refusedBefore} answered 503 with Retry-After meanwhile; {workload.Summary}"));
            // Ready again without the node: a load balancer sends them traffic while the cluster has a quorum.
            await FaultRun.UntilAsync(stack, async () => (await Health.ReadAsync(stack.Gateway)).Ready && (await Health.ReadAsync(stack.Audit)).Ready,
                TimeSpan.FromSeconds(60), $"the gateway's and the audit worker's /health to answer 200 with {node} down");
            log.Write($"fault {fault + 1}: the gateway and the audit worker ready (/health 200) with {node} still down, {FaultRun.Seconds(workload.Now - down)} after it stopped");

            await cluster.StartNodeAsync(node);
            queues = await cluster.WaitUntilReplicatedAsync(vhost.Name, TimeSpan.FromMinutes(2));
            log.Write($"fault {fault + 1}: {node} back and every quorum queue online on all three nodes after {FaultRun.Seconds(workload.Now - down)}");
            AssertReplicated(queues);
        }
        log.Write($"all submitted: {workload.Summary}");

        var balance = await stack.SettleAsync(workload.Accepted, TimeSpan.FromMinutes(FaultRun.Size(3, 15)));
        log.Write(string.Create(CultureInfo.InvariantCulture,
            $"{balance.Line} | faults injected: {faults} cluster nodes stopped in turn | answered during the stops: "
            + $"{answeredDuringStops.Accepted} 202, {answeredDuringStops.Refused} 503 with Retry-After, {workload.Errors.Count} other, "
            + $"{workload.ConnectionFailures} unanswered"));
        Assert.Empty(workload.Errors);
        // A submission unanswered within the client's 20 s (printed above as unanswered) is tried again, not counted as an
        // answer: 1 of 3,500 in a long run at load average 60, during a clean stop of node 1.
        Assert.Equal(packages, balance.Accepted);
        Assert.True(balance.Holds, balance.Report());
        Assert.True((await Health.ReadAsync(stack.Gateway)).Ready, "the gateway's /health is 200 again");
        Assert.True((await Health.ReadAsync(stack.Audit)).Ready, "the audit worker's /health is 200 again");
    }

    /// <summary>Every durable queue of the services is a quorum queue with a member on each node (their bus queues are temporary).</summary>
    private static void AssertReplicated(IReadOnlyList<QueueReplicas> queues)
    {
        var durable = queues.Where(q => !q.Name.Contains("-bus-", StringComparison.Ordinal)).ToList();
        Assert.NotEmpty(durable);
        Assert.All(durable, q =>
        {
            Assert.True(q.Type == "quorum", $"{q.Name} is a {q.Type} queue, not a quorum queue");
            Assert.Equal(RabbitMqCluster.Size, q.Members.Distinct().Count());
        });
    }
}
