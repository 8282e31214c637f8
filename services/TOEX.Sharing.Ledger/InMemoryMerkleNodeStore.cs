namespace TOEX.Sharing.Ledger;

/// <summary>
/// Keeps every node in memory: about <c>2n</c> 32-byte arrays for <c>n</c> leaves, roughly 130 bytes per
/// leaf with array headers and list slots. The audit worker rebuilds it at start by appending the leaf hashes it has
/// stored, in order (O(n)).
/// </summary>
public sealed class InMemoryMerkleNodeStore : IMerkleNodeStore
{
    private readonly List<List<byte[]>> levels = [];

    public long LeafCount => levels.Count == 0 ? 0 : levels[0].Count;

    public byte[] GetNode(int level, long index) => levels[level][checked((int)index)];

    public void Append(long leafIndex, IReadOnlyList<byte[]> nodes)
    {
        ArgumentNullException.ThrowIfNull(nodes);
        if (leafIndex != LeafCount)
        {
            throw new InvalidOperationException($"Leaf {leafIndex} appended to a store of {LeafCount} leaves.");
        }

        for (var level = 0; level < nodes.Count; level++)
        {
            if (level == levels.Count)
            {
                levels.Add([]);
            }

            if (levels[level].Count != leafIndex >> level)
            {
                throw new InvalidOperationException($"Node ({level}, {leafIndex >> level}) is out of order.");
            }

            levels[level].Add(nodes[level]);
        }
    }
}
