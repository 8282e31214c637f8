using System.Diagnostics;
using RabbitMQ.Client;
using RabbitMQ.Client.Events;
using TOEX.Sharing.Testing;

namespace TOEX.Sharing.Benchmarks.EndToEnd;

/// <summary>What the raw client achieved.</summary>
internal sealed record BaselineResult(string QueueType, int Messages, double AverageBytes, TimeSpan Elapsed, double BrokerCpuSeconds)
{
    public double MessagesPerSecond => Messages / Elapsed.TotalSeconds;
}

/// <summary>
/// The baseline: RabbitMQ.Client alone on the same broker, in a virtual host of its own, doing what the services'
/// messaging does at its core with none of their work: persistent messages of the packages' sizes published by as
/// many concurrent publishers as there are clients, each waiting for its publisher confirm (as a submission waits
/// for its confirm), to one durable queue, consumed with manual acknowledgements (prefetch 100).
/// </summary>
internal static class RawBaseline
{
    public static async Task<BaselineResult> RunAsync(RabbitMqBroker broker, MeasuredProcess brokerProcess, int[] sizes, int publishers, string queueType)
    {
        var vhost = await broker.CreateVirtualHostAsync($"bench-raw-{queueType}");
        try
        {
            var factory = new ConnectionFactory { Uri = vhost.AmqpUri };
            await using var consumerConnection = await factory.CreateConnectionAsync("raw-consumer");
            await using var publisherConnection = await factory.CreateConnectionAsync("raw-publishers");
            const string queue = "raw-bench";
            await using var consumerChannel = await consumerConnection.CreateChannelAsync();
            await consumerChannel.QueueDeclareAsync(queue, durable: true, exclusive: false, autoDelete: false,
                arguments: new Dictionary<string, object?> { ["x-queue-type"] = queueType });
            await consumerChannel.BasicQosAsync(0, 100, false);

            var consumed = 0;
            var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            var consumer = new AsyncEventingBasicConsumer(consumerChannel);
            consumer.ReceivedAsync += async (_, delivery) =>
            {
                await consumerChannel.BasicAckAsync(delivery.DeliveryTag, multiple: false);
                if (Interlocked.Increment(ref consumed) == sizes.Length)
                {
                    done.TrySetResult();
                }
            };
            await consumerChannel.BasicConsumeAsync(queue, autoAck: false, consumer);

            var payloads = sizes.Distinct().ToDictionary(s => s, s => new ReadOnlyMemory<byte>(new byte[s]));
            var properties = new BasicProperties { Persistent = true, ContentType = "application/json" };
            var brokerCpu = brokerProcess.CpuSeconds();
            var clock = Stopwatch.StartNew();
            var next = -1;
            var tasks = Enumerable.Range(0, publishers).Select(_ => Task.Run(async () =>
            {
                await using var channel = await publisherConnection.CreateChannelAsync(
                    new CreateChannelOptions(publisherConfirmationsEnabled: true, publisherConfirmationTrackingEnabled: true));
                int index;
                while ((index = Interlocked.Increment(ref next)) < sizes.Length)
                {
                    // Completes once the broker confirmed the message (tracking enabled).
                    await channel.BasicPublishAsync("", queue, mandatory: true, properties, payloads[sizes[index]]);
                }
            })).ToList();
            await Task.WhenAll(tasks);
            await done.Task.WaitAsync(TimeSpan.FromMinutes(5));
            var elapsed = clock.Elapsed;
            return new BaselineResult(queueType, sizes.Length, sizes.Average(), elapsed,
                brokerProcess.CpuSeconds() - brokerCpu);
        }
        finally
        {
            await broker.DeleteVirtualHostAsync(vhost.Name);
        }
    }
}
