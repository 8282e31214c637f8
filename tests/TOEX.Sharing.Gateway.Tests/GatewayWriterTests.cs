using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using TOEX.Sharing.Gateway.Data;
using TOEX.Sharing.Testing;

namespace TOEX.Sharing.Gateway.Tests;

/// <summary>
/// The gateway's one writer (<see cref="GatewayWriter"/>) on a real store: changes handed over while it commits are
/// written together in one transaction, a failing change fails only its caller, and a caller is answered only once its
/// change has committed.
/// </summary>
public abstract class GatewayWriterTests(StoreKind store) : IAsyncLifetime
{
    private readonly GatewayFactory _factory = new(store: store);

    public Task InitializeAsync() => Task.CompletedTask;

    public Task DisposeAsync()
    {
        _factory.Dispose();
        return Task.CompletedTask;
    }

    private GatewayWriter Writer => _factory.Services.GetRequiredService<GatewayWriter>();

    /// <summary>A change that adds a row of its own (a partner endpoint's state, named <paramref name="partner"/>).</summary>
    private static Func<GatewayDb, CancellationToken, Task<string>> Adds(string partner) => (db, _) =>
    {
        db.WebhookEndpoints.Add(new WebhookEndpointState { Partner = partner, DisabledReason = "writer test" });
        return Task.FromResult(partner);
    };

    private async Task<List<string>> RowsAsync()
    {
        await using var scope = _factory.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<GatewayDb>();
        return await db.WebhookEndpoints.AsNoTracking().Where(e => e.DisabledReason == "writer test").Select(e => e.Partner)
            .OrderBy(p => p).ToListAsync();
    }

    /// <summary>Hands the writer a change that keeps it busy until <paramref name="release"/> completes; returns that change's task.</summary>
    private async Task<Task<string>> OccupyAsync(TaskCompletionSource release)
    {
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var busy = Writer.WriteAsync(async (db, token) =>
        {
            started.TrySetResult();
            await release.Task;
            return await Adds("first")(db, token);
        }, CancellationToken.None);
        await started.Task.WaitAsync(TimeSpan.FromSeconds(30));
        return busy;
    }

    [Fact]
    public async Task Changes_handed_over_while_it_commits_are_committed_together_in_one_transaction()
    {
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var busy = await OccupyAsync(release);

        // Fifty callers, while the writer is busy with the first change (each is handed over when WriteAsync returns). Each
        // reports the transaction it was applied in: the gateway's own background work (resenders, the dispatcher) may commit
        // transactions of its own meanwhile, so the writer's commit count alone would not tell.
        var waiting = Enumerable.Range(0, 50).Select(i => Writer.WriteAsync(async (db, token) =>
        {
            await Adds($"p{i:00}")(db, token);
            return db.Database.CurrentTransaction!.TransactionId;
        }, CancellationToken.None)).ToList();
        Assert.DoesNotContain(waiting, t => t.IsCompleted);
        release.SetResult();

        Assert.Equal("first", await busy);
        var transactions = await Task.WhenAll(waiting);
        Assert.Single(transactions.Distinct());
        Assert.Equal(51, (await RowsAsync()).Count);
    }

    [Fact]
    public async Task A_failing_change_fails_only_its_caller_and_leaves_nothing_in_the_store()
    {
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var busy = await OccupyAsync(release);

        var good1 = Writer.WriteAsync(Adds("good-1"), CancellationToken.None);
        // Adds a row, then throws: neither the row nor the exception reaches anyone else.
        var throws = Writer.WriteAsync<string>(async (db, token) =>
        {
            await Adds("thrown")(db, token);
            await db.SaveChangesAsync(token);
            throw new InvalidOperationException("this change is refused");
        }, CancellationToken.None);
        // A constraint the store refuses: the same key as the first change.
        var duplicate = Writer.WriteAsync(Adds("first"), CancellationToken.None);
        var good2 = Writer.WriteAsync(Adds("good-2"), CancellationToken.None);
        release.SetResult();

        await busy;
        Assert.Equal("good-1", await good1);
        Assert.Equal("good-2", await good2);
        Assert.Equal("this change is refused", (await Assert.ThrowsAsync<InvalidOperationException>(() => throws)).Message);
        await Assert.ThrowsAsync<DbUpdateException>(() => duplicate);
        Assert.Equal(["first", "good-1", "good-2"], await RowsAsync());
    }

    [Fact]
    public async Task A_caller_is_answered_only_once_its_change_has_committed()
    {
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var busy = await OccupyAsync(release);

        var early = Writer.WriteAsync(Adds("early"), CancellationToken.None);
        // Applied after "early" in the same transaction: "early" is applied by then, but its caller must still be waiting.
        var answeredBeforeCommit = Writer.WriteAsync(async (db, token) =>
        {
            var earlyApplied = await db.WebhookEndpoints.AnyAsync(e => e.Partner == "early", token);
            return (earlyApplied, early.IsCompleted);
        }, CancellationToken.None);
        release.SetResult();

        await busy;
        var (earlyApplied, earlyAnswered) = await answeredBeforeCommit;
        Assert.True(earlyApplied);
        Assert.False(earlyAnswered);
        await early;
        // Answered: committed, so another connection reads it.
        Assert.Contains("early", await RowsAsync());
    }
}

public sealed class GatewayWriterTestsOnSqlite() : GatewayWriterTests(StoreKind.Sqlite);

public sealed class GatewayWriterTestsOnPostgreSql() : GatewayWriterTests(StoreKind.PostgreSql);
