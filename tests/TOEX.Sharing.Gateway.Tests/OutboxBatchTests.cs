using MassTransit;
using MassTransit.Testing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using TOEX.Sharing.Contracts;
using TOEX.Sharing.Gateway.Data;
using TOEX.Sharing.Gateway.Release;
using TOEX.Sharing.Testing;

namespace TOEX.Sharing.Gateway.Tests;

/// <summary>The outbox publishes its events together, each under its own id, and marks them sent and confirmed in one statement each.</summary>
public sealed class OutboxBatchTests : IDisposable
{
    private readonly GatewayFactory _factory = new();

    public void Dispose() => _factory.Dispose();

    private ITestHarness Harness => _factory.Services.GetRequiredService<ITestHarness>();

    /// <summary>Queues <paramref name="count"/> rejections in one transaction (as one decision's consumer would); returns their ids.</summary>
    private async Task<List<Guid>> QueueAsync(int count)
    {
        await using var scope = _factory.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<GatewayDb>();
        var ids = Enumerable.Range(0, count).Select(_ => NewId.NextGuid()).ToList();
        foreach (var id in ids)
        {
            db.Enqueue(new DecisionRejected { PackageId = NewId.NextGuid(), Why = "test", RejectedAt = GatewayFactory.At }, id, GatewayFactory.At);
        }
        await db.SaveChangesAsync();
        scope.ServiceProvider.GetRequiredService<OutboxSignal>().Notify();
        return ids;
    }

    private async Task<List<OutboxMessage>> RowsAsync(List<Guid> ids)
    {
        await using var scope = _factory.Services.CreateAsyncScope();
        return await scope.ServiceProvider.GetRequiredService<GatewayDb>().Outbox.AsNoTracking().Where(o => ids.Contains(o.MessageId))
            .OrderBy(o => o.Sequence).ToListAsync();
    }

    [Fact]
    public async Task Publishes_queued_events_as_one_batch_each_under_its_own_id_marks_them_sent_then_confirmed_at_once()
    {
        var ids = await QueueAsync(7);

        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        Assert.True(await Harness.Published.Any<GatewayEventBatch>(m => m.Context.Message.Events.Any(e => e.MessageId == ids[0]), timeout.Token));
        var published = Harness.Published.Select<GatewayEventBatch>(m => m.Context.Message.Events.Any(e => e.MessageId == ids[0])).First();
        Assert.Equal(ids, published.Context.Message.Events.Select(e => e.MessageId));
        Assert.All(published.Context.Message.Events, e => Assert.Equal(nameof(DecisionRejected), e.Type));
        Assert.Equal("test", ToexJson.Deserialize<DecisionRejected>(published.Context.Message.Events[3].Body).Why);
        // Its id is its events': the same rows published again are recognisably the same batch.
        Assert.Equal(OutboxRelay.BatchId(ids), published.Context.MessageId);
        Assert.NotEqual(OutboxRelay.BatchId([.. ids.Skip(1)]), published.Context.MessageId);
        await Eventually.UntilAsync(async () => (await RowsAsync(ids)).All(r => r.SentAt is not null), TimeSpan.FromSeconds(30),
            () => "the batch's rows were not marked sent");
        Assert.All(await RowsAsync(ids), r => Assert.Equal(1, r.Attempts));

        // The audit worker's one confirmation of the batch (and an id the gateway never queued, ignored).
        await _factory.DeliverAsync(new AuditRecorded { EventIds = [.. ids, NewId.NextGuid()], RecordedAt = GatewayFactory.At.AddSeconds(1) });

        Assert.All(await RowsAsync(ids), r => Assert.Equal(GatewayFactory.At.AddSeconds(1), r.ConfirmedAt));
    }

    [Fact]
    public async Task Publishes_the_same_rows_again_as_the_same_batch_when_they_were_not_marked_sent()
    {
        var ids = await QueueAsync(3);
        await Eventually.UntilAsync(async () => (await RowsAsync(ids)).All(r => r.SentAt is not null), TimeSpan.FromSeconds(30),
            () => "the batch's rows were not marked sent");
        var batches = new BatchCounter();
        using var observing = Harness.Bus.ConnectPublishObserver(batches);

        // A crash after the publish, before the rows were marked sent: they are unsent again.
        await using (var scope = _factory.Services.CreateAsyncScope())
        {
            await scope.ServiceProvider.GetRequiredService<GatewayDb>().Outbox.Where(o => ids.Contains(o.MessageId))
                .ExecuteUpdateAsync(set => set.SetProperty(o => o.SentAt, (DateTimeOffset?)null));
            scope.ServiceProvider.GetRequiredService<OutboxSignal>().Notify();
        }

        await Eventually.UntilAsync(async () => (await RowsAsync(ids)).All(r => r.Attempts == 2 && r.SentAt is not null), TimeSpan.FromSeconds(30),
            () => "the rows were not published again");
        Assert.Equal([OutboxRelay.BatchId(ids)], batches.Ids);
    }

    private sealed class BatchCounter : IPublishObserver
    {
        private readonly System.Collections.Concurrent.ConcurrentQueue<Guid> _ids = new();

        public IReadOnlyList<Guid> Ids => [.. _ids];

        public Task PrePublish<T>(PublishContext<T> context) where T : class => Task.CompletedTask;

        public Task PostPublish<T>(PublishContext<T> context) where T : class
        {
            if (context.Message is GatewayEventBatch && context.MessageId is { } id)
            {
                _ids.Enqueue(id);
            }
            return Task.CompletedTask;
        }

        public Task PublishFault<T>(PublishContext<T> context, Exception exception) where T : class => Task.CompletedTask;
    }
}
