namespace TOEX.Sharing.Ledger;

/// <summary>
/// Where a <see cref="MerkleTree"/> keeps its hashes: the leaf hashes and the hash of every complete
/// (perfect, aligned) subtree. Node <c>(level, index)</c> covers leaves
/// <c>[index · 2^level, (index + 1) · 2^level)</c>; level 0 holds the leaf hashes. Nodes are written once
/// and never change, so a database table <c>(level, index) → hash</c> can hold them as well as memory
/// can. A tree of <c>n</c> leaves has <c>2n − popcount(n)</c> of them.
/// </summary>
/// <remarks>
/// A store that keeps only leaf hashes would make roots and proofs cost O(n); keeping the complete
/// subtrees is what lets every operation of <see cref="MerkleTree"/> run in O(log n).
/// A store only ever sees one writer: <see cref="MerkleTree"/> serialises its calls.
/// </remarks>
public interface IMerkleNodeStore
{
    /// <summary>The number of leaves stored.</summary>
    long LeafCount { get; }

    /// <summary>
    /// The hash of the complete subtree at <paramref name="level"/> and <paramref name="index"/>. Only
    /// called for nodes already appended. The tree never modifies the array returned.
    /// </summary>
    byte[] GetNode(int level, long index);

    /// <summary>
    /// Stores leaf <paramref name="leafIndex"/> (always <see cref="LeafCount"/>) with the complete
    /// subtrees it closes: <c>nodes[h]</c> is the node at level <c>h</c> and index
    /// <c>leafIndex &gt;&gt; h</c>, <c>nodes[0]</c> being the leaf hash itself. A persistent store
    /// writes them atomically.
    /// </summary>
    void Append(long leafIndex, IReadOnlyList<byte[]> nodes);
}
