using System.Text.Json;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using TOEX.Sharing.Gateway.Data;
using TOEX.Sharing.ServiceDefaults;

namespace TOEX.Sharing.Gateway.Tests;

/// <summary>
/// The states are enums, stored and sent as the text the store and the API held before: no data or wire change.
/// The expected texts are written out here, not derived, so a renamed member fails.
/// </summary>
public sealed class StateTextTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("toex-states-").FullName;

    public static TheoryData<Enum, string> Texts => new()
    {
        { Outcome.Permit, "permit" }, { Outcome.Refer, "refer" }, { Outcome.Deny, "deny" },
        { DeliveryState.Pending, "pending" }, { DeliveryState.AwaitingReferral, "awaiting-referral" },
        { DeliveryState.Withheld, "withheld" }, { DeliveryState.Held, "held" }, { DeliveryState.Released, "released" },
        { DeliveryState.Delivered, "delivered" }, { DeliveryState.Acknowledged, "acknowledged" }, { DeliveryState.Failed, "failed" },
        { DeliveryState.DeadLettered, "dead-lettered" }, { DeliveryState.Withdrawn, "withdrawn" },
        { RecallAction.Notified, "notified" }, { RecallAction.Withdrawn, "withdrawn" }, { RecallAction.Pending, "pending" },
        { PushState.Pending, "pending" }, { PushState.Sending, "sending" }, { PushState.Delivered, "delivered" },
        { PushState.DeadLettered, "dead-lettered" }, { PushState.Cancelled, "cancelled" },
        { ItemKind.Package, "package" }, { ItemKind.Recall, "recall" },
    };

    [Theory]
    [MemberData(nameof(Texts))]
    public void Each_state_is_sent_as_its_text_and_read_back_from_it(Enum state, string text)
    {
        var json = JsonSerializer.Serialize(state, state.GetType());
        Assert.Equal($"\"{text}\"", json);
        Assert.Equal(state, JsonSerializer.Deserialize(json, state.GetType()));
    }

    [Fact]
    public void Every_member_of_every_state_has_its_text_pinned_here()
    {
        Type[] types = [typeof(Outcome), typeof(DeliveryState), typeof(RecallAction), typeof(PushState), typeof(ItemKind)];
        var pinned = Texts.Select(row => (Enum)row[0]).ToHashSet();
        Assert.All(types.SelectMany(t => Enum.GetValues(t).Cast<Enum>()), member => Assert.Contains(member, pinned));
    }

    [Fact]
    public void A_text_that_names_no_state_is_refused()
    {
        Assert.Null(StateText.Parse<PushState>("Sending"));
        Assert.Null(StateText.Parse<PushState>("1"));
        Assert.Null(StateText.Parse<ItemKind>(null));
        Assert.Equal(ItemKind.Recall, StateText.Parse<ItemKind>("recall"));
        Assert.Throws<JsonException>(() => JsonSerializer.Deserialize<PushState>("1"));
    }

    [Fact]
    public async Task The_store_holds_each_state_as_its_text()
    {
        var builder = new DbContextOptionsBuilder<GatewayDb>();
        builder.UseStore(Stores.Sqlite, $"Data Source={Path.Combine(_root, "gateway.db")};Pooling=False", "unused");
        await using var db = new GatewayDb(builder.Options);
        await Stores.EnsureCreatedAsync(db, CancellationToken.None);
        var id = Guid.NewGuid();
        db.Submissions.Add(new Submission
        {
            Id = id, Reference = "r", Originator = "o", ContentHash = "h", SubmittedBy = "s", PackageJson = "x", Status = SubmissionStatus.Decided,
            Recipients = [new RecipientState
            {
                Partner = "p", DeliveryState = DeliveryState.AwaitingReferral, Outcome = Outcome.Refer, RecallAction = RecallAction.Pending,
            }],
        });
        db.Webhooks.Add(new WebhookDelivery { Id = Guid.NewGuid(), Recipient = "p", PackageId = id, Kind = ItemKind.Recall, State = PushState.DeadLettered });
        await db.SaveChangesAsync();

        var recipient = await db.Database.SqlQueryRaw<string>(
            """SELECT "DeliveryState" || '|' || "Outcome" || '|' || "RecallAction" AS "Value" FROM "Recipients" """).SingleAsync();
        Assert.Equal("awaiting-referral|refer|pending", recipient);
        var push = await db.Database.SqlQueryRaw<string>("""SELECT "Kind" || '|' || "State" AS "Value" FROM "Webhooks" """).SingleAsync();
        Assert.Equal("recall|dead-lettered", push);

        await db.Database.ExecuteSqlRawAsync("""UPDATE "Recipients" SET "DeliveryState" = 'dead-lettered', "Outcome" = NULL""");
        db.ChangeTracker.Clear();
        var read = await db.Recipients.SingleAsync();
        Assert.Equal(DeliveryState.DeadLettered, read.DeliveryState);
        Assert.Null(read.Outcome);
        Assert.Equal(1, await db.Recipients.CountAsync(r => r.DeliveryState == DeliveryState.DeadLettered && r.RecallAction == RecallAction.Pending));
    }

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        Directory.Delete(_root, recursive: true);
    }
}
