using System.Threading.Channels;
using Microsoft.EntityFrameworkCore;
using TOEX.Sharing.ServiceDefaults;

namespace TOEX.Sharing.Gateway.Data;

/// <summary>
/// The gateway's one writer, with group commit (as the audit ledger's <c>LedgerWriter</c>): callers hand it a change, a
/// delegate that reads, checks and modifies the writer's own <see cref="GatewayDb"/> (e.g. "is the package still
/// submitted?" then its release), and the writer applies whatever has arrived, in the order it arrived, in one durable
/// transaction: one fsync'd commit for many callers instead of one each behind the store's single write lock. Each
/// caller is answered once the transaction holding its change has committed (or with its failure).
/// </summary>
/// <remarks>
/// <para>Checks and writes are serialised by the one writer: a change sees every change committed or applied before it,
/// in the same transaction. Each change is saved at once, with the change tracker cleared after it, so the next change
/// reads the store as it now is. A change that throws (its own check failed, a constraint, a concurrency token) fails only
/// its caller: the transaction is rolled back and the rest of the group applied again without it. Should the group's
/// commit itself fail, each change still waiting is applied again alone, in a transaction of its own: so a change is a
/// delegate that can run again from the start (it reads what it needs on the context it is given, never on another, and
/// keeps nothing from an earlier run).</para>
/// <para>Slow work stays outside (sealing, signature checks, HTTP): the caller prepares, the change only applies. Events are
/// added to the outbox by the change, in the transaction that commits the state they describe; the caller wakes the
/// outbox relay or the dispatcher after its change committed.</para>
/// <para>On SQLite every commit is durable (<c>synchronous=FULL</c> in WAL mode: the log is fsync'd on commit, set on the
/// writer's connection rather than relied upon), and the write-ahead log is checkpointed off the commit path: the writer's
/// connection does not checkpoint on commit (<c>wal_autocheckpoint=0</c>), a loop of its own checkpoints
/// (<c>PRAGMA wal_checkpoint(PASSIVE)</c>, which waits for no writer) once a second after commits. PostgreSQL commits are
/// durable by its own configuration (<c>synchronous_commit</c>), which the gateway does not change.</para>
/// </remarks>
public sealed class GatewayWriter : IAsyncDisposable
{
    /// <summary>The most changes one transaction takes; more wait for the next.</summary>
    public const int MaxGroup = 256;

    private static readonly TimeSpan CheckpointInterval = TimeSpan.FromSeconds(1);

    private readonly IServiceScopeFactory _scopes;
    private readonly ILogger<GatewayWriter> _logger;
    private readonly Channel<Change> _changes = Channel.CreateUnbounded<Change>(new UnboundedChannelOptions { SingleReader = true });
    private readonly CancellationTokenSource _stopping = new();
    private readonly Task _writing;
    private readonly Task _checkpointing;
    private long _commits;
    private long _checkpointed;

    public GatewayWriter(IServiceScopeFactory scopes, TimeProvider time, ILogger<GatewayWriter> logger)
    {
        (_scopes, _logger) = (scopes, logger);
        _writing = Task.Run(WriteLoopAsync);
        _checkpointing = Task.Run(() => CheckpointLoopAsync(time));
    }

    /// <summary>How many transactions the writer has committed (each one for a group of changes).</summary>
    public long Commits => Interlocked.Read(ref _commits);

    /// <summary>
    /// Applies <paramref name="change"/> on the writer's context in its next transaction; returns what the change returned,
    /// once that transaction has committed. <paramref name="cancellationToken"/> stops the wait, not the change: a change
    /// handed over may still commit.
    /// </summary>
    public Task<T> WriteAsync<T>(Func<GatewayDb, CancellationToken, Task<T>> change, CancellationToken cancellationToken)
    {
        var pending = new Change<T>(change);
        if (!_changes.Writer.TryWrite(pending))
        {
            throw new ObjectDisposedException(nameof(GatewayWriter), "The gateway's writer is stopping: nothing more is written.");
        }
        return pending.Committed.Task.WaitAsync(cancellationToken);
    }

    /// <summary>Applies <paramref name="change"/> in the writer's next transaction; returns once it has committed.</summary>
    public Task WriteAsync(Func<GatewayDb, CancellationToken, Task> change, CancellationToken cancellationToken) =>
        WriteAsync(async (db, token) =>
        {
            await change(db, token);
            return true;
        }, cancellationToken);

    private async Task WriteLoopAsync()
    {
        var reader = _changes.Reader;
        var group = new List<Change>(MaxGroup);
        while (await reader.WaitToReadAsync())
        {
            while (group.Count < MaxGroup && reader.TryRead(out var change))
            {
                group.Add(change);
            }
            await WriteGroupAsync(group);
            group.Clear();
        }
    }

    private async Task WriteGroupAsync(IReadOnlyList<Change> group)
    {
        List<Change> applied;
        try
        {
            applied = await CommitAsync(group);
        }
        catch (Exception e)
        {
            var waiting = group.Where(c => !c.Answered).ToList();
            if (waiting.Count <= 1)
            {
                foreach (var change in waiting)
                {
                    change.Fail(e);
                }
                return;
            }
            // Nothing of the group is in the store: each change is applied again alone, so that one bad change fails only its caller.
            _logger.LogWarning(e, "A group commit of {Count} changes failed; each is written again alone", waiting.Count);
            foreach (var change in waiting)
            {
                await WriteGroupAsync([change]);
            }
            return;
        }
        if (applied.Count > 0)
        {
            Interlocked.Increment(ref _commits);
        }
        foreach (var change in applied)
        {
            change.Commit();
        }
    }

    /// <summary>
    /// Applies the group's changes in one transaction and commits it; returns the changes applied. A change that throws is
    /// failed alone: the transaction is rolled back (nothing of the group is in the store) and the others are applied again,
    /// in the same order, without it. Cheaper than a savepoint per change when changes rarely fail: PostgreSQL keeps every
    /// subtransaction of a transaction in its snapshots, and more than 64 of them make every session's snapshots slower.
    /// </summary>
    private async Task<List<Change>> CommitAsync(IReadOnlyList<Change> group)
    {
        // Not a caller's token: a caller giving up must not fail the changes of the others in the group.
        var cancellationToken = CancellationToken.None;
        var remaining = new List<Change>(group);
        while (remaining.Count > 0)
        {
            await using var scope = _scopes.CreateAsyncScope();
            var db = scope.ServiceProvider.GetRequiredService<GatewayDb>();
            // A change that throws rolls the transaction back (below): SaveChanges needs no savepoint of its own.
            db.Database.AutoSavepointsEnabled = false;
            var sqlite = db.Database.IsSqlite();
            await db.Database.OpenConnectionAsync(cancellationToken);
            if (sqlite)
            {
                await db.Database.ExecuteSqlRawAsync("PRAGMA synchronous=FULL; PRAGMA wal_autocheckpoint=0;", cancellationToken);
            }
            await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
            var refused = await ApplyEachAsync(db, remaining, cancellationToken);
            if (refused is null)
            {
                await transaction.CommitAsync(cancellationToken);
                return remaining;
            }
            await transaction.RollbackAsync(cancellationToken);
            // Nothing of it is in the store, whatever becomes of the others.
            refused.Value.Change.Fail(refused.Value.Error);
            remaining.Remove(refused.Value.Change);
        }
        return remaining;
    }

    /// <summary>Applies each change in turn; returns the first that throws (not for a transient store failure: that is the group's).</summary>
    private static async Task<(Change Change, Exception Error)?> ApplyEachAsync(GatewayDb db, List<Change> changes,
        CancellationToken cancellationToken)
    {
        foreach (var change in changes)
        {
            try
            {
                await ApplyAsync(db, change, cancellationToken);
            }
            catch (Exception e) when (!StoreFailures.IsTransient(e))
            {
                return (change, e);
            }
        }
        return null;
    }

    private static async Task ApplyAsync(GatewayDb db, Change change, CancellationToken cancellationToken)
    {
        // In the caller's trace (a span of its own under the caller's, which may have ended by now): the events and pushes the
        // change queues carry it as their trace parent, so they join the request or message that caused them, not the
        // writer's loop.
        using (ToexTelemetry.StartLinkedTo("gateway.write", change.CallerTraceParent))
        {
            await change.ApplyAsync(db, cancellationToken);
            await db.SaveChangesAsync(cancellationToken);
        }
        // The next change reads the store as it now is, not entities this one left tracked.
        db.ChangeTracker.Clear();
    }

    /// <summary>Checkpoints SQLite's write-ahead log beside the writer, never on its commits; PostgreSQL needs nothing.</summary>
    private async Task CheckpointLoopAsync(TimeProvider time)
    {
        using var timer = new PeriodicTimer(CheckpointInterval, time);
        try
        {
            while (await timer.WaitForNextTickAsync(_stopping.Token))
            {
                var commits = Commits;
                if (commits == _checkpointed)
                {
                    continue;
                }
                try
                {
                    await using var scope = _scopes.CreateAsyncScope();
                    var db = scope.ServiceProvider.GetRequiredService<GatewayDb>();
                    if (!db.Database.IsSqlite())
                    {
                        return;
                    }
                    await db.Database.ExecuteSqlRawAsync("PRAGMA wal_checkpoint(PASSIVE);", _stopping.Token);
                    _checkpointed = commits;
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    _logger.LogWarning(e, "The store's write-ahead log could not be checkpointed; will retry");
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    /// <summary>Writes what was handed over, then stops.</summary>
    public async ValueTask DisposeAsync()
    {
        _changes.Writer.TryComplete();
        await _writing;
        await _stopping.CancelAsync();
        await _checkpointing;
        _stopping.Dispose();
    }

    private abstract class Change
    {
        /// <summary>The caller's trace parent when it handed the change over.</summary>
        public string? CallerTraceParent { get; } = ToexTelemetry.CurrentTraceParent();

        public abstract bool Answered { get; }

        public abstract Task ApplyAsync(GatewayDb db, CancellationToken cancellationToken);

        public abstract void Commit();

        public abstract void Fail(Exception error);
    }

    private sealed class Change<T>(Func<GatewayDb, CancellationToken, Task<T>> apply) : Change
    {
        private T _result = default!;

        public TaskCompletionSource<T> Committed { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public override bool Answered => Committed.Task.IsCompleted;

        public override async Task ApplyAsync(GatewayDb db, CancellationToken cancellationToken) => _result = await apply(db, cancellationToken);

        public override void Commit() => Committed.TrySetResult(_result);

        public override void Fail(Exception error) => Committed.TrySetException(error);
    }
}
