using System.Numerics;

namespace TOEX.Sharing.Ledger;

/// <summary>
/// An append-only RFC 9162 Merkle tree over leaf hashes: its root at any size it has had, and the
/// inclusion (§2.1.3.1 PATH) and consistency (§2.1.4.1 PROOF/SUBPROOF) proofs between them.
/// </summary>
/// <remarks>
/// <para>
/// Cost, for <c>n</c> leaves, counting SHA-256 compressions and node reads from the
/// <see cref="IMerkleNodeStore"/>:
/// <see cref="Append"/> O(log n) worst case, O(1) amortised (it closes on average one subtree);
/// <see cref="RootHash(long)"/> O(log n) (one node per set bit of the size);
/// <see cref="InclusionProof"/> and <see cref="ConsistencyProof"/> O(log n): every proof hash is a
/// stored complete subtree except at most one, on the tree's right edge, which is folded from O(log n)
/// stored ones. Space is the store's: <c>2n</c> hashes.
/// </para>
/// <para>Thread-safe: operations are serialised, so readers may run beside the one writer.</para>
/// </remarks>
public sealed class MerkleTree
{
    private readonly IMerkleNodeStore store;
    private readonly Lock gate = new();

    /// <summary>An empty tree held in memory.</summary>
    public MerkleTree()
        : this(new InMemoryMerkleNodeStore())
    {
    }

    /// <summary>A tree over <paramref name="store"/>, which may already hold leaves.</summary>
    public MerkleTree(IMerkleNodeStore store)
    {
        ArgumentNullException.ThrowIfNull(store);
        this.store = store;
    }

    /// <summary>The number of leaves.</summary>
    public long Size
    {
        get
        {
            lock (gate)
            {
                return store.LeafCount;
            }
        }
    }

    /// <summary>Appends a leaf hash (see <see cref="MerkleHash.LeafHash"/>) and returns its index.</summary>
    /// <exception cref="ArgumentException"><paramref name="leafHash"/> is not 32 bytes.</exception>
    public long Append(ReadOnlySpan<byte> leafHash)
    {
        if (leafHash.Length != MerkleHash.Size)
        {
            throw new ArgumentException($"A leaf hash is {MerkleHash.Size} bytes (got {leafHash.Length}).", nameof(leafHash));
        }

        lock (gate)
        {
            var index = store.LeafCount;
            var node = leafHash.ToArray();
            var nodes = new List<byte[]> { node };

            // While the node just completed is a right child, it completes its parent too.
            for (var level = 0; ((index >> level) & 1) == 1; level++)
            {
                node = MerkleHash.NodeHash(store.GetNode(level, (index >> level) - 1), node);
                nodes.Add(node);
            }

            store.Append(index, nodes);
            return index;
        }
    }

    /// <summary>The root of the tree as it is now.</summary>
    public byte[] RootHash()
    {
        lock (gate)
        {
            return RootAt(store.LeafCount);
        }
    }

    /// <summary>The root the tree had when it held <paramref name="size"/> leaves (MTH(D[0:size])).</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="size"/> is negative or beyond <see cref="Size"/>.</exception>
    public byte[] RootHash(long size)
    {
        lock (gate)
        {
            ArgumentOutOfRangeException.ThrowIfNegative(size);
            ArgumentOutOfRangeException.ThrowIfGreaterThan(size, store.LeafCount);
            return RootAt(size);
        }
    }

    /// <summary>
    /// The audit path of leaf <paramref name="index"/> in the tree of <paramref name="treeSize"/> leaves,
    /// from the leaf's sibling up (RFC 9162 §2.1.3.1).
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">Not <c>0 ≤ index &lt; treeSize ≤ Size</c>.</exception>
    public IReadOnlyList<byte[]> InclusionProof(long index, long treeSize)
    {
        lock (gate)
        {
            ArgumentOutOfRangeException.ThrowIfGreaterThan(treeSize, store.LeafCount);
            ArgumentOutOfRangeException.ThrowIfNegative(index);
            ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(index, treeSize);

            var proof = new List<byte[]>();
            Path(index, 0, treeSize, proof);
            return proof;
        }
    }

    /// <summary>
    /// The proof that the tree of <paramref name="size1"/> leaves is a prefix of the tree of
    /// <paramref name="size2"/> leaves (RFC 9162 §2.1.4.1); empty when the sizes are equal.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">
    /// Not <c>0 ≤ size1 ≤ size2 ≤ Size</c>, or <c>size1 = 0 &lt; size2</c>: RFC 9162 defines no proof from
    /// the empty tree, which every tree extends.
    /// </exception>
    public IReadOnlyList<byte[]> ConsistencyProof(long size1, long size2)
    {
        lock (gate)
        {
            ArgumentOutOfRangeException.ThrowIfGreaterThan(size2, store.LeafCount);
            ArgumentOutOfRangeException.ThrowIfNegative(size1);
            ArgumentOutOfRangeException.ThrowIfGreaterThan(size1, size2);
            if (size1 == 0 && size2 > 0)
            {
                throw new ArgumentOutOfRangeException(nameof(size1), size1, "There is no consistency proof from the empty tree.");
            }

            var proof = new List<byte[]>();
            if (size1 < size2)
            {
                SubProof(size1, 0, size2, true, proof);
            }

            return proof;
        }
    }

    /// <summary>The largest power of two strictly less than <paramref name="n"/> (n &gt; 1): RFC 9162's k.</summary>
    internal static long Split(long n) => 1L << (63 - BitOperations.LeadingZeroCount((ulong)(n - 1)));

    private byte[] RootAt(long size) => size == 0 ? MerkleHash.EmptyRoot.ToArray() : RangeHash(0, size);

    /// <summary>PATH(m, D[start:start+n]), appended to <paramref name="proof"/>.</summary>
    private void Path(long m, long start, long n, List<byte[]> proof)
    {
        if (n == 1)
        {
            return;
        }

        var k = Split(n);
        if (m < k)
        {
            Path(m, start, k, proof);
            proof.Add(RangeHash(start + k, n - k));
        }
        else
        {
            Path(m - k, start + k, n - k, proof);
            proof.Add(RangeHash(start, k));
        }
    }

    /// <summary>SUBPROOF(m, D[start:start+n], complete), appended to <paramref name="proof"/>.</summary>
    private void SubProof(long m, long start, long n, bool complete, List<byte[]> proof)
    {
        if (m == n)
        {
            if (!complete)
            {
                proof.Add(RangeHash(start, n));
            }

            return;
        }

        var k = Split(n);
        if (m <= k)
        {
            SubProof(m, start, k, complete, proof);
            proof.Add(RangeHash(start + k, n - k));
        }
        else
        {
            SubProof(m - k, start + k, n - k, false, proof);
            proof.Add(RangeHash(start, k));
        }
    }

    /// <summary>
    /// MTH(D[start:start+count]) for a range the RFC recursion produces, where <paramref name="start"/>
    /// is a multiple of the largest power of two in <paramref name="count"/>. Such a range is the complete
    /// subtrees of the set bits of <paramref name="count"/>, largest first, and its hash folds them from
    /// the right. Returns a new array, never the store's.
    /// </summary>
    private byte[] RangeHash(long start, long count)
    {
        byte[]? hash = null;
        var end = start + count;
        for (var level = 0; (count >> level) != 0; level++)
        {
            if (((count >> level) & 1) == 0)
            {
                continue;
            }

            end -= 1L << level;
            var subtree = store.GetNode(level, end >> level);
            hash = hash is null ? subtree.AsSpan().ToArray() : MerkleHash.NodeHash(subtree, hash);
        }

        return hash!;
    }
}
