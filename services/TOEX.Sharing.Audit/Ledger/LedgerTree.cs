using Microsoft.EntityFrameworkCore;
using TOEX.Sharing.Audit.Data;
using TOEX.Sharing.Ledger;

namespace TOEX.Sharing.Audit.Ledger;

/// <summary>
/// The RFC 9162 Merkle tree over the ledger's leaf hashes, in index order. Loaded once from the store (so a
/// restart continues the same tree), then extended by <see cref="LedgerWriter"/> after each commit.
/// </summary>
public sealed class LedgerTree(ILogger<LedgerTree> logger) : IDisposable
{
    private readonly MerkleTree _tree = new();
    private readonly SemaphoreSlim _load = new(1, 1);
    private readonly Lock _gate = new();
    private long _lastIndex = -1;
    private volatile bool _loaded;

    /// <summary>The tree itself: roots and proofs at any size it has had.</summary>
    public MerkleTree Tree => _tree;

    /// <summary>Loads the stored leaf hashes the first time it is called; later calls return at once.</summary>
    public async Task EnsureLoadedAsync(AuditDb db, CancellationToken cancellationToken)
    {
        if (_loaded)
        {
            return;
        }
        await _load.WaitAsync(cancellationToken);
        try
        {
            if (_loaded)
            {
                return;
            }
            var leaves = await db.Entries.AsNoTracking().OrderBy(e => e.Index).Select(e => new { e.Index, e.LeafHash })
                .ToListAsync(cancellationToken);
            foreach (var leaf in leaves)
            {
                if (leaf.Index != _lastIndex + 1)
                {
                    logger.LogCritical("The ledger store has no entry at index {Index}: entries were removed", _lastIndex + 1);
                }
                Append(leaf.Index, Convert.FromHexString(leaf.LeafHash));
            }
            logger.LogInformation("Ledger tree loaded with {Size} leaves", _tree.Size);
            _loaded = true;
        }
        finally
        {
            _load.Release();
        }
    }

    /// <summary>Appends the leaf of ledger entry <paramref name="index"/> unless the tree already holds it.</summary>
    public void Append(long index, byte[] leafHash)
    {
        lock (_gate)
        {
            if (index <= _lastIndex)
            {
                return;
            }
            _tree.Append(leafHash);
            _lastIndex = index;
        }
    }

    public void Dispose() => _load.Dispose();
}
