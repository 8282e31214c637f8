using Microsoft.EntityFrameworkCore;
using TOEX.Sharing.Audit.Data;
using TOEX.Sharing.Ledger;

namespace TOEX.Sharing.Audit.Ledger;

/// <summary>
/// The RFC 9162 Merkle tree over the ledger's leaf hashes, in index order. Built from the store (so a restart
/// continues the same tree) and caught up with it before each use: other audit worker instances append to the
/// same store, so this process's writes are not the only ones. <see cref="LedgerWriter"/> also appends its own
/// leaves right after each commit.
/// </summary>
public sealed class LedgerTree(ILogger<LedgerTree> logger) : IDisposable
{
    private readonly MerkleTree _tree = new();
    private readonly SemaphoreSlim _load = new(1, 1);
    private readonly Lock _gate = new();
    private long _lastIndex = -1;

    /// <summary>The tree itself: roots and proofs at any size it has had.</summary>
    public MerkleTree Tree => _tree;

    /// <summary>Appends every committed leaf the tree does not hold yet, in index order.</summary>
    public async Task CatchUpAsync(AuditDb db, CancellationToken cancellationToken)
    {
        await _load.WaitAsync(cancellationToken);
        try
        {
            var from = Volatile.Read(ref _lastIndex);
            var leaves = await db.Entries.AsNoTracking().Where(e => e.Index > from).OrderBy(e => e.Index)
                .Select(e => new { e.Index, e.LeafHash }).ToListAsync(cancellationToken);
            var expected = from + 1;
            foreach (var leaf in leaves)
            {
                if (leaf.Index != expected)
                {
                    logger.LogCritical("The ledger store has no entry at index {Index}: entries were removed", expected);
                }
                lock (_gate)
                {
                    if (leaf.Index > _lastIndex)
                    {
                        _tree.Append(Convert.FromHexString(leaf.LeafHash));
                        Volatile.Write(ref _lastIndex, leaf.Index);
                    }
                }
                expected = leaf.Index + 1;
            }
            if (from < 0)
            {
                logger.LogInformation("Ledger tree loaded with {Size} leaves", _tree.Size);
            }
        }
        finally
        {
            _load.Release();
        }
    }

    /// <summary>
    /// Appends the leaf of ledger entry <paramref name="index"/> if it is the next one; an entry the tree already
    /// holds, or one after a gap (another instance's entries not loaded yet), is left to <see cref="CatchUpAsync"/>.
    /// </summary>
    public void Append(long index, byte[] leafHash)
    {
        lock (_gate)
        {
            if (index != _lastIndex + 1)
            {
                return;
            }
            _tree.Append(leafHash);
            Volatile.Write(ref _lastIndex, index);
        }
    }

    public void Dispose() => _load.Dispose();
}
