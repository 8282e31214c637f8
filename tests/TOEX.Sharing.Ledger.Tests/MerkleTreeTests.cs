using System.Security.Cryptography;

namespace TOEX.Sharing.Ledger.Tests;

public sealed class MerkleTreeTests
{
    private const int ProofTreeSize = 40;

    /// <summary>The test tree of RFC 6962's reference implementation: its entries and MTH of each prefix.</summary>
    public static TheoryData<int, string> Rfc6962Roots => new()
    {
        { 1, "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d" },
        { 2, "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125" },
        { 3, "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77" },
        { 4, "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7" },
        { 5, "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4" },
        { 6, "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef" },
        { 7, "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c" },
        { 8, "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328" },
    };

    private static readonly string[] Rfc6962Entries =
    [
        "", "00", "10", "2021", "3031", "40414243", "5051525354555657", "606162636465666768696a6b6c6d6e6f",
    ];

    [Fact]
    public void Empty_tree_has_size_zero_and_the_empty_root()
    {
        var tree = new MerkleTree();

        Assert.Equal(0, tree.Size);
        Assert.Equal(SHA256.HashData([]), tree.RootHash());
        Assert.Equal(SHA256.HashData([]), tree.RootHash(0));
    }

    [Theory]
    [MemberData(nameof(Rfc6962Roots))]
    public void Root_of_the_RFC_6962_test_tree_matches_the_published_value(int size, string root)
    {
        var tree = new MerkleTree();
        foreach (var entry in Rfc6962Entries)
        {
            tree.Append(MerkleHash.LeafHash(Convert.FromHexString(entry)));
        }

        Assert.Equal(root, Convert.ToHexStringLower(tree.RootHash(size)));
    }

    [Fact]
    public void Roots_at_every_size_match_the_recursive_definition()
    {
        var leaves = ReferenceMerkle.Leaves(70);
        var tree = new MerkleTree();
        for (var n = 0; n < leaves.Length; n++)
        {
            Assert.Equal(n, tree.Append(leaves[n]));
            Assert.Equal(n + 1, tree.Size);
            Assert.Equal(ReferenceMerkle.Mth(leaves.AsSpan(0, n + 1)), tree.RootHash());
        }

        for (var size = 0; size <= leaves.Length; size++)
        {
            Assert.Equal(ReferenceMerkle.Mth(leaves.AsSpan(0, size)), tree.RootHash(size));
        }
    }

    [Fact]
    public void Inclusion_proofs_for_every_index_and_size_up_to_40_match_the_RFC_and_verify()
    {
        var leaves = ReferenceMerkle.Leaves(ProofTreeSize);
        var tree = Build(leaves);
        var checkedProofs = 0;

        for (var size = 1; size <= ProofTreeSize; size++)
        {
            var root = tree.RootHash(size);
            for (var index = 0; index < size; index++)
            {
                var proof = tree.InclusionProof(index, size);

                Assert.Equal(ReferenceMerkle.Path(index, leaves.AsSpan(0, size)), proof);
                var result = MerkleVerifier.VerifyInclusion(index, size, leaves[index], proof, root);
                Assert.True(result.IsValid, $"leaf {index} of {size}: {result}");
                checkedProofs++;
            }
        }

        Assert.Equal(ProofTreeSize * (ProofTreeSize + 1) / 2, checkedProofs);
    }

    [Fact]
    public void Consistency_proofs_for_every_pair_of_sizes_up_to_40_match_the_RFC_and_verify()
    {
        var leaves = ReferenceMerkle.Leaves(ProofTreeSize);
        var tree = Build(leaves);
        var checkedProofs = 0;

        for (var size2 = 1; size2 <= ProofTreeSize; size2++)
        {
            for (var size1 = 1; size1 <= size2; size1++)
            {
                var proof = tree.ConsistencyProof(size1, size2);

                Assert.Equal(ReferenceMerkle.Proof(size1, leaves.AsSpan(0, size2)), proof);
                var result = MerkleVerifier.VerifyConsistency(size1, size2, tree.RootHash(size1), tree.RootHash(size2), proof);
                Assert.True(result.IsValid, $"{size1} to {size2}: {result}");
                checkedProofs++;
            }
        }

        Assert.Equal(ProofTreeSize * (ProofTreeSize + 1) / 2, checkedProofs);
    }

    [Fact]
    public void Consistency_proof_between_empty_trees_is_empty_and_verifies()
    {
        var tree = Build(ReferenceMerkle.Leaves(3));

        var proof = tree.ConsistencyProof(0, 0);

        Assert.Empty(proof);
        Assert.True(MerkleVerifier.VerifyConsistency(0, 0, tree.RootHash(0), tree.RootHash(0), proof).IsValid);
    }

    [Theory]
    [InlineData(31)]
    [InlineData(33)]
    [InlineData(0)]
    public void Append_refuses_a_leaf_hash_that_is_not_32_bytes(int length)
    {
        var tree = new MerkleTree();

        Assert.Throws<ArgumentException>(() => tree.Append(new byte[length]));
        Assert.Equal(0, tree.Size);
    }

    [Theory]
    [InlineData(-1)]
    [InlineData(6)]
    public void Root_of_a_size_the_tree_never_had_is_refused(long size)
    {
        var tree = Build(ReferenceMerkle.Leaves(5));

        Assert.Throws<ArgumentOutOfRangeException>(() => tree.RootHash(size));
    }

    [Theory]
    [InlineData(0, 0)]
    [InlineData(5, 5)]
    [InlineData(-1, 5)]
    [InlineData(0, 6)]
    [InlineData(long.MaxValue, 5)]
    public void Inclusion_proof_outside_the_tree_is_refused(long index, long treeSize)
    {
        var tree = Build(ReferenceMerkle.Leaves(5));

        Assert.Throws<ArgumentOutOfRangeException>(() => tree.InclusionProof(index, treeSize));
    }

    [Theory]
    [InlineData(0, 3)]
    [InlineData(4, 3)]
    [InlineData(-1, 3)]
    [InlineData(2, 6)]
    public void Consistency_proof_between_sizes_that_are_not_ordered_prefixes_is_refused(long size1, long size2)
    {
        var tree = Build(ReferenceMerkle.Leaves(5));

        Assert.Throws<ArgumentOutOfRangeException>(() => tree.ConsistencyProof(size1, size2));
    }

    [Fact]
    public void Callers_cannot_change_the_tree_through_the_hashes_it_returns()
    {
        var leaves = ReferenceMerkle.Leaves(4);
        var tree = Build(leaves);
        var expectedRoot = ReferenceMerkle.Mth(leaves);

        tree.RootHash()[0] ^= 0xff;
        tree.RootHash(1)[0] ^= 0xff;
        tree.InclusionProof(0, 4)[0][0] ^= 0xff;
        tree.ConsistencyProof(1, 4)[0][0] ^= 0xff;
        leaves[0][0] ^= 0xff;

        var original = ReferenceMerkle.Leaves(4);
        Assert.Equal(expectedRoot, tree.RootHash());
        Assert.Equal(original[0], tree.RootHash(1));
        Assert.Equal(ReferenceMerkle.Path(0, original), tree.InclusionProof(0, 4));
        Assert.Equal(ReferenceMerkle.Proof(1, original), tree.ConsistencyProof(1, 4));
    }

    [Fact]
    public void A_tree_over_an_existing_store_carries_on_where_it_stopped()
    {
        var leaves = ReferenceMerkle.Leaves(45);
        var store = new InMemoryMerkleNodeStore();
        var first = new MerkleTree(store);
        foreach (var leaf in leaves[..20])
        {
            first.Append(leaf);
        }

        var reopened = new MerkleTree(store);
        Assert.Equal(20, reopened.Size);
        Assert.Equal(first.RootHash(), reopened.RootHash());
        foreach (var leaf in leaves[20..])
        {
            reopened.Append(leaf);
        }

        Assert.Equal(ReferenceMerkle.Mth(leaves), reopened.RootHash());
        Assert.Equal(ReferenceMerkle.Proof(20, leaves), reopened.ConsistencyProof(20, 45));
    }

    [Fact]
    public void Appends_roots_and_proofs_read_a_logarithmic_number_of_nodes()
    {
        const int n = (1 << 17) + 12_345;
        const int log2 = 18; // ceil(log2(n))
        var store = new CountingStore();
        var tree = new MerkleTree(store);
        var leaf = new byte[32];
        var mostReadsByAppend = 0;
        for (var i = 0; i < n; i++)
        {
            leaf[0] = (byte)i;
            leaf[1] = (byte)(i >> 8);
            leaf[2] = (byte)(i >> 16);
            store.Reads = 0;
            tree.Append(leaf);
            mostReadsByAppend = Math.Max(mostReadsByAppend, store.Reads);
        }

        Assert.Equal(17, mostReadsByAppend);
        Assert.InRange(Reads(() => tree.RootHash()), 1, log2);
        Assert.InRange(Reads(() => tree.RootHash(n - 1)), 1, log2);
        foreach (var index in new long[] { 0, 1, n / 2, (1 << 17) - 1, 1 << 17, n - 2, n - 1 })
        {
            Assert.InRange(Reads(() => tree.InclusionProof(index, n)), 1, 2 * log2);
        }

        foreach (var size1 in new long[] { 1, 2, 3, 1 << 16, (1 << 17) - 1, 1 << 17, (1 << 17) + 1, n - 1 })
        {
            Assert.InRange(Reads(() => tree.ConsistencyProof(size1, n)), 1, 2 * log2);
        }

        int Reads(Action action)
        {
            store.Reads = 0;
            action();
            return store.Reads;
        }
    }

    private static MerkleTree Build(IEnumerable<byte[]> leaves)
    {
        var tree = new MerkleTree();
        foreach (var leaf in leaves)
        {
            tree.Append(leaf);
        }

        return tree;
    }

    private sealed class CountingStore : IMerkleNodeStore
    {
        private readonly InMemoryMerkleNodeStore inner = new();

        public int Reads { get; set; }

        public long LeafCount => inner.LeafCount;

        public byte[] GetNode(int level, long index)
        {
            Reads++;
            return inner.GetNode(level, index);
        }

        public void Append(long leafIndex, IReadOnlyList<byte[]> nodes) => inner.Append(leafIndex, nodes);
    }
}
