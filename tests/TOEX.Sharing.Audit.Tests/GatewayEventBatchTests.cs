using MassTransit;
using Microsoft.Extensions.DependencyInjection;
using TOEX.Sharing.Audit.Consumers;
using TOEX.Sharing.Contracts;
using TOEX.Sharing.Testing;

namespace TOEX.Sharing.Audit.Tests;

/// <summary>The gateway's outbox events in batches (<see cref="GatewayEventBatch"/>): recorded as each alone, confirmed at once.</summary>
public abstract class GatewayEventBatchTests(StoreKind store) : IDisposable
{
    private readonly AuditFactory _factory = new(store);

    public void Dispose()
    {
        _factory.Dispose();
        GC.SuppressFinalize(this);
    }

    private static GatewayEvent Event<T>(Guid id, T message) where T : class =>
        new() { MessageId = id, Type = typeof(T).Name, Body = ToexJson.Serialize(message) };

    private static WebhookDelivered Delivered(Guid packageId) => new()
    {
        WebhookId = NewId.NextGuid(),
        PackageId = packageId,
        Recipient = "bcc-childrens",
        Kind = "package",
        Attempt = 1,
        StatusCode = 204,
        At = Events.At.AddMinutes(4),
    };

    private List<AuditRecorded> Confirmations() => [.. _factory.Harness.Published.Select<AuditRecorded>().Select(m => m.Context.Message)];

    [Fact]
    public void Records_every_event_the_gateway_queues_and_no_other()
    {
        Assert.Equal(GatewayOutboxEvents.Types.OrderBy(t => t.Name), GatewayEventEntries.Types.OrderBy(t => t.Name));
    }

    [Fact]
    public async Task A_batch_is_recorded_as_its_events_alone_would_be_and_confirmed_by_one_message_naming_them_all()
    {
        var packageId = NewId.NextGuid();
        var released = (Id: NewId.NextGuid(), Message: Events.Released(packageId));
        var delivered = (Id: NewId.NextGuid(), Message: Delivered(packageId));
        var consulted = (Id: NewId.NextGuid(), Message: Events.Consultation());
        var rejected = (Id: NewId.NextGuid(), Message: Events.Rejected(NewId.NextGuid()));

        await _factory.DeliverAsync(new GatewayEventBatch
        {
            Events = [Event(released.Id, released.Message), Event(delivered.Id, delivered.Message), Event(consulted.Id, consulted.Message),
                Event(rejected.Id, rejected.Message)],
        });

        var ledger = await _factory.LedgerAsync();
        Assert.Equal(["release", "webhook-delivered", "consultation", "consultation", "decision-rejected"], ledger.Select(e => e.Type));
        Assert.Equal($"gateway/PackageReleased/{released.Id:N}", ledger[0].EventKey);
        Assert.Equal($"gateway/ConsultationRecorded/{consulted.Id:N}:1", ledger[3].EventKey);
        var confirmation = Assert.Single(Confirmations());
        Assert.Equal([released.Id, delivered.Id, consulted.Id, rejected.Id], confirmation.EventIds);

        // The same events sent alone (an outbox row of a gateway of before the batches): the same keys and digests, so
        // nothing is appended and nothing is refused (each delivery completes without a fault), each confirmed alone.
        await _factory.DeliverAsync(released.Message, released.Id);
        await _factory.DeliverAsync(delivered.Message, delivered.Id);
        await _factory.DeliverAsync(consulted.Message, consulted.Id);
        await _factory.DeliverAsync(rejected.Message, rejected.Id);
        Assert.Equal(ledger.Select(e => e.LeafHash), (await _factory.LedgerAsync()).Select(e => e.LeafHash));
        Assert.Equal(5, Confirmations().Count);
    }

    [Fact]
    public async Task Events_batched_again_after_a_crash_or_recorded_alone_before_are_recorded_once_and_confirmed_again()
    {
        var alone = (Id: NewId.NextGuid(), Message: Events.Released(NewId.NextGuid()));
        var first = (Id: NewId.NextGuid(), Message: Events.Released(NewId.NextGuid()));
        var second = (Id: NewId.NextGuid(), Message: Delivered(first.Message.PackageId));
        var later = (Id: NewId.NextGuid(), Message: Events.Rejected(NewId.NextGuid()));
        await _factory.DeliverAsync(alone.Message, alone.Id);
        await _factory.DeliverAsync(new GatewayEventBatch { Events = [Event(alone.Id, alone.Message), Event(first.Id, first.Message), Event(second.Id, second.Message)] });
        var before = await _factory.LedgerAsync();

        // The gateway crashed before marking them sent: they go again, with an event queued since, in a batch of another id.
        await _factory.DeliverAsync(new GatewayEventBatch
        {
            Events = [Event(alone.Id, alone.Message), Event(first.Id, first.Message), Event(second.Id, second.Message), Event(later.Id, later.Message)],
        });

        var after = await _factory.LedgerAsync();
        Assert.Equal(4, after.Count);
        Assert.Equal(before.Select(e => e.LeafHash), after.Take(3).Select(e => e.LeafHash));
        Assert.Equal($"gateway/DecisionRejected/{later.Id:N}", after[3].EventKey);
        Assert.Equal(after.Count, after.Select(e => e.EventKey).Distinct().Count());
        Assert.Equal([alone.Id, first.Id, second.Id, later.Id], Confirmations().Last().EventIds);
    }

    [Fact]
    public async Task A_bad_event_does_not_stop_the_others_it_is_never_confirmed_and_the_batch_waits_in_its_error_queue_saying_why()
    {
        var recorded = (Id: NewId.NextGuid(), Message: Events.Released(NewId.NextGuid()));
        await _factory.DeliverAsync(recorded.Message, recorded.Id);
        var good = (Id: NewId.NextGuid(), Message: Events.Released(NewId.NextGuid()));
        var alsoGood = (Id: NewId.NextGuid(), Message: Events.Rejected(NewId.NextGuid()));
        var malformed = NewId.NextGuid();
        var notTheGateways = NewId.NextGuid();
        var batchId = NewId.NextGuid();
        var faulted = _factory.Services.GetRequiredService<Consumptions>().WaitFaultAsync(batchId, "1", TimeSpan.FromSeconds(30));

        await _factory.Harness.Bus.Publish(new GatewayEventBatch
        {
            Events =
            [
                Event(good.Id, good.Message),
                new GatewayEvent { MessageId = malformed, Type = nameof(PackageReleased), Body = "{\"packageId\": 12" },
                // A decision is PolicyDecision's to publish: a batch (the gateway's) cannot put one in the ledger.
                Event(notTheGateways, new SharingDecided { PackageId = NewId.NextGuid(), DecisionJws = "x.y.z" }),
                // Other content under a recorded event's id: forged or replayed.
                Event(recorded.Id, recorded.Message with { Recipient = "wmp" }),
                Event(alsoGood.Id, alsoGood.Message),
            ],
        }, context =>
        {
            context.MessageId = batchId;
            context.Headers.Set(Consumptions.DeliveryHeader, "1");
        });

        var refused = Assert.IsType<GatewayEventsRefusedException>(await faulted);
        Assert.Equal(3, refused.Refused.Count);
        Assert.Contains(refused.Refused, r => r.StartsWith($"PackageReleased {malformed}: its body is not a PackageReleased", StringComparison.Ordinal));
        Assert.Contains(refused.Refused, r => r == $"SharingDecided {notTheGateways}: not an event of the gateway's outbox");
        Assert.Contains(refused.Refused, r => r.StartsWith($"PackageReleased {recorded.Id}: its key gateway/PackageReleased/{recorded.Id:N} is recorded with other content", StringComparison.Ordinal));
        var ledger = await _factory.LedgerAsync();
        Assert.Equal([$"gateway/PackageReleased/{recorded.Id:N}", $"gateway/PackageReleased/{good.Id:N}", $"gateway/DecisionRejected/{alsoGood.Id:N}"],
            ledger.Select(e => e.EventKey));
        Assert.Equal("bcc-childrens", ledger[0].Partner);
        // Confirmed: the two recorded, in one message; never the refused ones.
        Assert.Equal([good.Id, alsoGood.Id], Confirmations().Last().EventIds);
        Assert.DoesNotContain(Confirmations(), c => c.EventIds.Contains(malformed) || c.EventIds.Contains(notTheGateways) || c.EventIds.Count > 2);
        // Not retried (the same events would be refused again): one consumption, to the error queue.
        Assert.Single(_factory.Harness.Consumed.Select<GatewayEventBatch>(m => m.Context.MessageId == batchId));
    }
}

public sealed class GatewayEventBatchTestsOnSqlite() : GatewayEventBatchTests(StoreKind.Sqlite);

public sealed class GatewayEventBatchTestsOnPostgreSql() : GatewayEventBatchTests(StoreKind.PostgreSql);
