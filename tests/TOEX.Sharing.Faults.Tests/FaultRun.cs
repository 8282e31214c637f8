using System.Globalization;
using TOEX.Sharing.Testing;

[assembly: CollectionBehavior(DisableTestParallelization = true)]

namespace TOEX.Sharing.Faults.Tests;

/// <summary>
/// The size of a fault run: short (CI) unless <c>TOEX_FAULTS_LONG=1</c>, which runs the long variants (more packages,
/// more faults). The README gives the one command that runs them.
/// </summary>
public static class FaultRun
{
    public const string LongVariable = "TOEX_FAULTS_LONG";

    public static bool IsLong => Environment.GetEnvironmentVariable(LongVariable) == "1";

    /// <summary><paramref name="shortRun"/> in CI, <paramref name="longRun"/> with <c>TOEX_FAULTS_LONG=1</c>.</summary>
    public static int Size(int shortRun, int longRun) => IsLong ? longRun : shortRun;

    public static string Variant => IsLong ? "long" : "short";

    /// <summary>A private broker node of this run's own, with a virtual host for the services, each as its own user.</summary>
    public static async Task<(RabbitMqBroker Broker, BrokerVhost Vhost)> PrivateBrokerAsync()
    {
        var broker = await RabbitMqBroker.StartPrivateNodeAsync();
        return (broker, await broker.CreateVirtualHostAsync("faults"));
    }

    /// <summary>
    /// What a run that does not balance leaves to look at: each of the run's queues (messages, ready, unacknowledged,
    /// consumers) and the services' last lines.
    /// </summary>
    public static async Task<string> PostMortemAsync(RabbitMqBroker broker, BrokerVhost vhost, FaultServices stack)
    {
        string queues;
        try
        {
            queues = await broker.ControlAsync(default, "list_queues", "-p", vhost.Name, "name", "messages", "messages_ready",
                "messages_unacknowledged", "consumers", "--timeout", "60");
        }
        catch (Exception e)
        {
            queues = $"(queues not listed: {e.Message})";
        }
        return $"queues:{Environment.NewLine}{queues}{Environment.NewLine}{await FaultsInErrorQueuesAsync(vhost, queues)}{stack.RecentOutput(120)}";
    }

    /// <summary>
    /// The error queues of <paramref name="vhost"/> holding messages (<c>name messages</c>), each with why its first message
    /// failed (MassTransit's fault headers): empty when no consumer gave up on a message.
    /// </summary>
    public static async Task<(IReadOnlyList<string> Queues, string Faults)> ErrorQueuesWithMessagesAsync(RabbitMqBroker broker, BrokerVhost vhost)
    {
        var listing = await broker.ControlAsync(default, "list_queues", "-p", vhost.Name, "name", "messages", "--timeout", "60");
        var queues = listing.Split('\n').Select(line => line.Split('\t'))
            .Where(columns => columns.Length >= 2 && columns[0].Trim().EndsWith("_error", StringComparison.Ordinal)
                && int.TryParse(columns[1].Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var messages) && messages > 0)
            .Select(columns => $"{columns[0].Trim()} {columns[1].Trim()}").ToList();
        return (queues, queues.Count == 0 ? "" : await FaultsInErrorQueuesAsync(vhost, listing));
    }

    /// <summary>Why each message waiting in an error queue failed (MassTransit's fault headers), read and put back.</summary>
    private static async Task<string> FaultsInErrorQueuesAsync(BrokerVhost vhost, string listing)
    {
        var report = new System.Text.StringBuilder();
        try
        {
            var factory = new RabbitMQ.Client.ConnectionFactory { Uri = vhost.AmqpUri };
            await using var connection = await factory.CreateConnectionAsync();
            var errorQueues = listing.Split('\n').Select(line => line.Split('\t')[0].Trim()).Where(name => name.EndsWith("_error", StringComparison.Ordinal));
            foreach (var queue in errorQueues)
            {
                await using var channel = await connection.CreateChannelAsync();
                RabbitMQ.Client.BasicGetResult? got;
                try
                {
                    got = await channel.BasicGetAsync(queue, autoAck: false);
                }
                catch (RabbitMQ.Client.Exceptions.OperationInterruptedException)
                {
                    continue;
                }
                if (got is null)
                {
                    continue;
                }
                var headers = got.BasicProperties.Headers ?? new Dictionary<string, object?>();
                string Header(string name) => headers.TryGetValue(name, out var value) && value is byte[] bytes
                    ? System.Text.Encoding.UTF8.GetString(bytes) : value?.ToString() ?? "";
                report.AppendLine(CultureInfo.InvariantCulture, $"{queue}: {Header("MT-Fault-ExceptionType")}: {Header("MT-Fault-Message")}");
                await channel.BasicNackAsync(got.DeliveryTag, false, requeue: true);
            }
        }
        catch (Exception e)
        {
            report.AppendLine(CultureInfo.InvariantCulture, $"(error queues not read: {e.Message})");
        }
        return report.ToString();
    }

    /// <summary>Waits until <paramref name="condition"/> holds, failing with the services' output.</summary>
    public static Task UntilAsync(FaultServices stack, Func<Task<bool>> condition, TimeSpan timeout, string what) =>
        UntilAsync(stack, condition, timeout, () => what);

    /// <inheritdoc cref="UntilAsync(FaultServices, Func{Task{bool}}, TimeSpan, string)"/>
    public static Task UntilAsync(FaultServices stack, Func<Task<bool>> condition, TimeSpan timeout, Func<string> what) =>
        Eventually.UntilAsync(condition, timeout, () => $"Timed out ({timeout.TotalSeconds:0} s) waiting for {what()}.\n{stack.RecentOutput()}",
            poll: TimeSpan.FromMilliseconds(100));

    public static string Seconds(TimeSpan span) => span.TotalSeconds.ToString("0.0", CultureInfo.InvariantCulture) + " s";
}
