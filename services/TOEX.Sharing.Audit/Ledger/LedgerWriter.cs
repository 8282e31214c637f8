using System.Security.Cryptography;
using System.Text;
using Microsoft.EntityFrameworkCore;
using TOEX.Sharing.Audit.Data;
using TOEX.Sharing.Contracts;
using TOEX.Sharing.ServiceDefaults;

namespace TOEX.Sharing.Audit.Ledger;

/// <summary>
/// Appends entries in one order. Each entry's leaf hash is RFC 9162's <c>SHA-256(0x00 || canonical)</c>;
/// the chain hash <c>SHA-256(previous chain || leaf)</c> links it to every entry before it, so an entry
/// edited, removed or reordered breaks every chain hash after it. An event key already in the ledger is
/// not appended again (redelivered events). One order holds across every audit worker instance on the store:
/// each append takes the store's ledger lock inside its transaction (<see cref="Stores.LockForTransactionAsync"/>)
/// before reading the last index, and the index and event key are unique in the store, so a writer that raced
/// regardless fails and is retried. Once the transaction commits, the new leaves are appended to the
/// <see cref="LedgerTree"/>, so the tree grows in index order.
/// </summary>
public sealed class LedgerWriter(LedgerTree tree) : IDisposable
{
    private static readonly byte[] Genesis = new byte[32];
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly List<Pending> _pending = [];

    /// <summary>
    /// Drafts waiting to be appended, rows the caller keeps beside them (<see cref="Also"/>, written in the same
    /// transaction only when at least one of its drafts is new), and the caller waiting for their commit.
    /// </summary>
    private sealed record Pending(IReadOnlyList<LedgerRecord> Drafts, Func<AuditDb, CancellationToken, Task>? Also, TaskCompletionSource<Committed> Appended);

    /// <summary>What one caller's drafts became: how many were new, in a transaction of how many callers, ending at which index.</summary>
    private readonly record struct Committed(int Appended, int Group, long LastIndex);

    /// <summary>How many callers are waiting for the writer (their drafts to be taken into the next group commit).</summary>
    public int Waiting
    {
        get
        {
            lock (_pending)
            {
                return _pending.Count;
            }
        }
    }

    /// <summary>
    /// Appends <paramref name="drafts"/> in one transaction, and returns once it has committed. Group commit: the
    /// appends requested while another was committing are written together by the next caller to take the writer,
    /// on its store context, in one transaction (one durable commit for many events, in the order they were asked for);
    /// each caller returns when the transaction holding its drafts commits, or fails with it.
    /// </summary>
    /// <remarks>
    /// <paramref name="also"/> adds the caller's query rows (a referral, subjects' blind indexes, a delivered copy) to the
    /// context that writes the transaction: they commit with the entries, and only when at least one draft is new, so a
    /// redelivered event adds them once. A draft whose event key is in the ledger with other content (its
    /// <see cref="LedgerRecord.EventDigest"/> differs) is refused: the caller fails with <see cref="LedgerConflictException"/>
    /// and nothing of its drafts is written, while the rest of the group commits.
    /// </remarks>
    public async Task<int> AppendAsync(AuditDb db, IReadOnlyList<LedgerRecord> drafts, CancellationToken cancellationToken,
        Func<AuditDb, CancellationToken, Task>? also = null)
    {
        // The caller's span (in its own trace: the event's), whichever caller's transaction commits its drafts.
        using var activity = ToexTelemetry.Source.StartActivity("audit.append");
        var committed = await AppendGroupedAsync(db, drafts, also, cancellationToken);
        if (activity is not null)
        {
            activity.SetTag("toex.ledger.appended", committed.Appended);
            activity.SetTag("toex.ledger.group", committed.Group);
            activity.SetTag("toex.ledger.last_index", committed.LastIndex);
            activity.SetTag("toex.ledger.entry_type", drafts.Count > 0 ? drafts[0].Type : null);
            activity.SetTag("toex.package_id", drafts.Count > 0 ? drafts[0].PackageId?.ToString() : null);
        }
        return committed.Appended;
    }

    /// <summary>
    /// Appends each of <paramref name="appends"/> (one event's drafts each) in one transaction of the group commit, and
    /// returns once it has committed: for each, how many of its drafts were new, or the <see cref="LedgerConflictException"/>
    /// that refused it (nothing of it written) while the others committed. Fails whole (nothing of any written) when the
    /// transaction fails.
    /// </summary>
    public async Task<IReadOnlyList<(int Appended, LedgerConflictException? Conflict)>> AppendEachAsync(AuditDb db,
        IReadOnlyList<LedgerAppend> appends, CancellationToken cancellationToken)
    {
        var mine = appends.Select(a => new Pending(a.Drafts, a.Also,
            new TaskCompletionSource<Committed>(TaskCreationOptions.RunContinuationsAsynchronously))).ToList();
        if (mine.Count == 0)
        {
            return [];
        }
        await AppendGroupedAsync(db, mine, cancellationToken);
        var results = new List<(int, LedgerConflictException?)>(mine.Count);
        foreach (var pending in mine)
        {
            try
            {
                results.Add(((await pending.Appended.Task).Appended, null));
            }
            catch (LedgerConflictException conflict)
            {
                results.Add((0, conflict));
            }
        }
        return results;
    }

    private async Task<Committed> AppendGroupedAsync(AuditDb db, IReadOnlyList<LedgerRecord> drafts, Func<AuditDb, CancellationToken, Task>? also,
        CancellationToken cancellationToken)
    {
        var mine = new Pending(drafts, also, new TaskCompletionSource<Committed>(TaskCreationOptions.RunContinuationsAsynchronously));
        await AppendGroupedAsync(db, [mine], cancellationToken);
        return await mine.Appended.Task;
    }

    /// <summary>
    /// Queues <paramref name="mine"/> together (so they are taken into the same group commit) and returns once that
    /// commit has completed each of them, with its result or its failure.
    /// </summary>
    private async Task AppendGroupedAsync(AuditDb db, List<Pending> mine, CancellationToken cancellationToken)
    {
        lock (_pending)
        {
            _pending.AddRange(mine);
        }
        try
        {
            await _gate.WaitAsync(cancellationToken);
        }
        catch (OperationCanceledException)
        {
            lock (_pending)
            {
                // Not yet taken by a writer: withdrawn (all of them: a writer takes every waiting one at once). Taken: they
                // commit or fail with that writer's transaction.
                if (_pending.Remove(mine[0]))
                {
                    foreach (var pending in mine.Skip(1))
                    {
                        _pending.Remove(pending);
                    }
                    throw;
                }
            }
            await Task.WhenAll(mine.Select(p => (Task)p.Appended.Task)).ContinueWith(_ => { }, TaskScheduler.Default);
            return;
        }
        try
        {
            if (!mine[0].Appended.Task.IsCompleted)
            {
                List<Pending> group;
                lock (_pending)
                {
                    group = [.. _pending];
                    _pending.Clear();
                }
                await WriteAsync(db, group);
            }
        }
        finally
        {
            _gate.Release();
        }
        await Task.WhenAll(mine.Select(p => (Task)p.Appended.Task)).ContinueWith(_ => { }, TaskScheduler.Default);
    }

    private async Task WriteAsync(AuditDb db, List<Pending> group)
    {
        // The transaction's own span, under the caller that wrote it; no package tag (its drafts are of many packages).
        using var activity = ToexTelemetry.Source.StartActivity("audit.commit");
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        List<LedgerRecord> appended;
        List<(long Index, byte[] Leaf)> leaves;
        Dictionary<Pending, LedgerConflictException> conflicts;
        long index;
        try
        {
            // Not the leader's token: its caller giving up must not fail the appends of the others in the group.
            (appended, leaves, conflicts, index) = await CommitAsync(db, group, CancellationToken.None);
        }
        catch (Exception e)
        {
            // Nothing of the group is in the store: each caller fails (its message is retried), and this context is
            // left clean for its owner.
            db.ChangeTracker.Clear();
            foreach (var pending in group)
            {
                pending.Appended.TrySetException(e);
            }
            return;
        }
        foreach (var (leafIndex, leaf) in leaves)
        {
            tree.Append(leafIndex, leaf);
        }
        var written = appended.Select(r => r.EventKey).ToHashSet(StringComparer.Ordinal);
        foreach (var pending in group)
        {
            if (conflicts.TryGetValue(pending, out var conflict))
            {
                pending.Appended.TrySetException(conflict);
                continue;
            }
            var count = pending.Drafts.Select(d => d.EventKey).Distinct(StringComparer.Ordinal).Count(written.Remove);
            pending.Appended.TrySetResult(new Committed(count, group.Count, index));
        }
        foreach (var record in appended)
        {
            ToexTelemetry.LedgerEntries.Add(1, new KeyValuePair<string, object?>("type", record.Type));
        }
        ToexTelemetry.LedgerAppendDuration.Record(ToexTelemetry.ElapsedMs(started));
        if (activity is not null)
        {
            activity.SetTag("toex.ledger.appended", leaves.Count);
            activity.SetTag("toex.ledger.group", group.Count);
            activity.SetTag("toex.ledger.last_index", index);
        }
    }

    /// <summary>
    /// Whether two digests of one event key show other content. Digests of different kinds (<c>kind:hex</c>: an event's
    /// bytes, or what a verified decision decided) are not compared: an entry recorded before a kind was introduced is
    /// taken for the same event.
    /// </summary>
    internal static bool Clashes(string? recorded, string? draft)
    {
        if (recorded is null || draft is null || recorded == draft)
        {
            return false;
        }
        var (a, b) = (recorded.LastIndexOf(':'), draft.LastIndexOf(':'));
        return a == b && string.CompareOrdinal(recorded, 0, draft, 0, a) == 0;
    }

    /// <summary>
    /// Appends the drafts not already in the ledger (by event key), in one committed transaction, with the rows of the
    /// callers that had a new draft. A caller with a draft whose key is known with other content appends nothing.
    /// </summary>
    private async Task<(List<LedgerRecord> Appended, List<(long Index, byte[] Leaf)> Leaves, Dictionary<Pending, LedgerConflictException> Conflicts,
        long LastIndex)> CommitAsync(AuditDb db, List<Pending> group, CancellationToken cancellationToken)
    {
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        await db.Database.LockForTransactionAsync(StoreLock.Ledger, cancellationToken);
        await tree.CatchUpAsync(db, cancellationToken);
        var keys = group.SelectMany(p => p.Drafts).Select(d => d.EventKey).Distinct(StringComparer.Ordinal).ToList();
        var known = (await db.Entries.Where(e => keys.Contains(e.EventKey)).Select(e => new { e.EventKey, e.EventDigest }).ToListAsync(cancellationToken))
            .ToDictionary(e => e.EventKey, e => e.EventDigest, StringComparer.Ordinal);
        var last = await db.Entries.OrderByDescending(e => e.Index).Select(e => new { e.Index, e.ChainHash })
            .FirstOrDefaultAsync(cancellationToken);
        var index = last?.Index ?? -1;
        var chain = last is null ? Genesis : Convert.FromHexString(last.ChainHash);

        var conflicts = new Dictionary<Pending, LedgerConflictException>();
        var appended = new List<LedgerRecord>();
        foreach (var pending in group)
        {
            // An event key taken by other content (a forged or replayed event under a recorded id): refused whole.
            var clash = pending.Drafts.FirstOrDefault(d => known.TryGetValue(d.EventKey, out var digest) && Clashes(digest, d.EventDigest));
            if (clash is not null)
            {
                conflicts[pending] = new LedgerConflictException(clash.EventKey);
                continue;
            }
            var fresh = pending.Drafts.Where(d => !known.ContainsKey(d.EventKey)).DistinctBy(d => d.EventKey).ToList();
            foreach (var draft in fresh)
            {
                known[draft.EventKey] = draft.EventDigest;
            }
            appended.AddRange(fresh);
            if (fresh.Count > 0 && pending.Also is { } also)
            {
                await also(db, cancellationToken);
            }
        }
        var referenceOf = await EntryReferences.ResolveAsync(db, appended, cancellationToken);
        await EntryReferences.BackfillAsync(db, appended, cancellationToken);
        var leaves = new List<(long Index, byte[] Leaf)>(appended.Count);
        foreach (var draft in appended)
        {
            index++;
            var record = draft with { Index = index, At = draft.At.ToUniversalTime() };
            var canonical = ToexJson.Serialize(record);
            var leaf = LeafHash(Encoding.UTF8.GetBytes(canonical));
            chain = SHA256.HashData([.. chain, .. leaf]);
            db.Entries.Add(new LedgerEntry
            {
                Index = index,
                EventKey = draft.EventKey,
                Type = draft.Type,
                AtUnixMs = record.At.ToUnixTimeMilliseconds(),
                Actor = draft.Actor,
                Justification = draft.Justification,
                RecipientsJson = ToexJson.Serialize(draft.Recipients),
                PackageId = draft.PackageId,
                Reference = referenceOf(draft),
                Originator = draft.Originator,
                Partner = draft.Partner,
                Agreement = draft.Agreement,
                Outcome = draft.Outcome,
                Canonical = canonical,
                LeafHash = Convert.ToHexStringLower(leaf),
                ChainHash = Convert.ToHexStringLower(chain),
                EventDigest = draft.EventDigest,
            });
            leaves.Add((index, leaf));
        }
        await db.SaveChangesAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return (appended, leaves, conflicts, index);
    }

    public void Dispose() => _gate.Dispose();

    public static byte[] LeafHash(ReadOnlySpan<byte> entry)
    {
        var buffer = new byte[entry.Length + 1];
        entry.CopyTo(buffer.AsSpan(1));
        return SHA256.HashData(buffer);
    }
}

/// <summary>
/// An event whose key is already in the ledger with other content: refused, never confirmed to its publisher (whose
/// fail-closed hold then stands), and raised as an alert. Not retried: the same event would clash again.
/// </summary>
public sealed class LedgerConflictException(string eventKey)
    : Exception($"Event key {eventKey} is already in the ledger with other content: the event is refused.")
{
    public string EventKey { get; } = eventKey;
}
