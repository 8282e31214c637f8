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

    public async Task<int> AppendAsync(AuditDb db, IReadOnlyList<LedgerRecord> drafts, CancellationToken cancellationToken)
    {
        using var activity = ToexTelemetry.Source.StartActivity("audit.append");
        await _gate.WaitAsync(cancellationToken);
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        try
        {
            await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
            await db.Database.LockForTransactionAsync(StoreLock.Ledger, cancellationToken);
            await tree.CatchUpAsync(db, cancellationToken);
            var keys = drafts.Select(d => d.EventKey).ToList();
            var known = await db.Entries.Where(e => keys.Contains(e.EventKey)).Select(e => e.EventKey).ToListAsync(cancellationToken);
            var last = await db.Entries.OrderByDescending(e => e.Index).Select(e => new { e.Index, e.ChainHash })
                .FirstOrDefaultAsync(cancellationToken);
            var index = last?.Index ?? -1;
            var chain = last is null ? Genesis : Convert.FromHexString(last.ChainHash);

            var leaves = new List<(long Index, byte[] Leaf)>();
            foreach (var draft in drafts.Where(d => !known.Contains(d.EventKey)).DistinctBy(d => d.EventKey))
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
                    Originator = draft.Originator,
                    Partner = draft.Partner,
                    Agreement = draft.Agreement,
                    Outcome = draft.Outcome,
                    Canonical = canonical,
                    LeafHash = Convert.ToHexStringLower(leaf),
                    ChainHash = Convert.ToHexStringLower(chain),
                });
                leaves.Add((index, leaf));
            }
            await db.SaveChangesAsync(cancellationToken);
            await transaction.CommitAsync(cancellationToken);
            foreach (var (leafIndex, leaf) in leaves)
            {
                tree.Append(leafIndex, leaf);
            }
            foreach (var type in drafts.Where(d => !known.Contains(d.EventKey)).DistinctBy(d => d.EventKey).Select(d => d.Type))
            {
                ToexTelemetry.LedgerEntries.Add(1, new KeyValuePair<string, object?>("type", type));
            }
            ToexTelemetry.LedgerAppendDuration.Record(ToexTelemetry.ElapsedMs(started));
            if (activity is not null)
            {
                activity.SetTag("toex.ledger.appended", leaves.Count);
                activity.SetTag("toex.ledger.last_index", index);
                activity.SetTag("toex.ledger.entry_type", drafts.Count > 0 ? drafts[0].Type : null);
                activity.SetTag("toex.package_id", drafts.Count > 0 ? drafts[0].PackageId?.ToString() : null);
            }
            return leaves.Count;
        }
        finally
        {
            _gate.Release();
        }
    }

    public void Dispose() => _gate.Dispose();

    public static byte[] LeafHash(ReadOnlySpan<byte> entry)
    {
        var buffer = new byte[entry.Length + 1];
        entry.CopyTo(buffer.AsSpan(1));
        return SHA256.HashData(buffer);
    }
}
