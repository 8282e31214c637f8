namespace TOEX.Sharing.Ledger.Tests;

public sealed class MerkleVerifierTests
{
    private const int Size = 21;

    private static readonly byte[][] Leaves = ReferenceMerkle.Leaves(Size);
    private static readonly MerkleTree Tree = Build();

    [Fact]
    public void Inclusion_fails_when_any_bit_of_the_proof_leaf_or_root_is_flipped()
    {
        foreach (var size in new[] { 1, 2, 7, 8, 16, Size })
        {
            var root = Tree.RootHash(size);
            for (var index = 0; index < size; index++)
            {
                var proof = Tree.InclusionProof(index, size);
                Assert.True(MerkleVerifier.VerifyInclusion(index, size, Leaves[index], proof, root).IsValid);

                foreach (var (what, tamperedLeaf, tamperedProof, tamperedRoot) in Tamperings(Leaves[index], proof, root))
                {
                    var result = MerkleVerifier.VerifyInclusion(index, size, tamperedLeaf, tamperedProof, tamperedRoot);
                    Assert.False(result.IsValid, $"leaf {index} of {size} with {what} was accepted");
                }
            }
        }
    }

    [Fact]
    public void Consistency_fails_when_any_bit_of_the_proof_or_either_root_is_flipped()
    {
        foreach (var size2 in new[] { 2, 8, 13, Size })
        {
            var root2 = Tree.RootHash(size2);
            for (var size1 = 1; size1 < size2; size1++)
            {
                var root1 = Tree.RootHash(size1);
                var proof = Tree.ConsistencyProof(size1, size2);
                Assert.True(MerkleVerifier.VerifyConsistency(size1, size2, root1, root2, proof).IsValid);

                foreach (var (what, tamperedRoot1, tamperedProof, tamperedRoot2) in Tamperings(root1, proof, root2))
                {
                    var result = MerkleVerifier.VerifyConsistency(size1, size2, tamperedRoot1, tamperedRoot2, tamperedProof);
                    Assert.False(result.IsValid, $"{size1} to {size2} with {what} was accepted");
                }
            }
        }
    }

    [Fact]
    public void Inclusion_fails_for_a_proof_with_a_hash_added_removed_or_reordered()
    {
        var root = Tree.RootHash(Size);
        var proof = Tree.InclusionProof(5, Size);

        Assert.False(MerkleVerifier.VerifyInclusion(5, Size, Leaves[5], [.. proof, root], root).IsValid);
        Assert.False(MerkleVerifier.VerifyInclusion(5, Size, Leaves[5], [root, .. proof], root).IsValid);
        Assert.False(MerkleVerifier.VerifyInclusion(5, Size, Leaves[5], proof.Take(proof.Count - 1).ToList(), root).IsValid);
        Assert.False(MerkleVerifier.VerifyInclusion(5, Size, Leaves[5], [proof[1], proof[0], .. proof.Skip(2)], root).IsValid);
    }

    [Fact]
    public void Inclusion_fails_for_a_proof_of_another_leaf_or_another_size()
    {
        var proof = Tree.InclusionProof(5, Size);

        Assert.False(MerkleVerifier.VerifyInclusion(5, Size, Leaves[4], proof, Tree.RootHash(Size)).IsValid);
        Assert.False(MerkleVerifier.VerifyInclusion(4, Size, Leaves[5], proof, Tree.RootHash(Size)).IsValid);
        Assert.False(MerkleVerifier.VerifyInclusion(5, Size - 1, Leaves[5], proof, Tree.RootHash(Size - 1)).IsValid);
    }

    [Fact]
    public void Consistency_fails_for_swapped_roots_another_first_size_or_a_hash_added_or_removed()
    {
        var proof = Tree.ConsistencyProof(6, 13);
        var root6 = Tree.RootHash(6);
        var root13 = Tree.RootHash(13);

        Assert.False(MerkleVerifier.VerifyConsistency(6, 13, root13, root6, proof).IsValid);
        Assert.False(MerkleVerifier.VerifyConsistency(5, 13, root6, root13, proof).IsValid);
        Assert.False(MerkleVerifier.VerifyConsistency(6, 13, root6, root13, [.. proof, root13]).IsValid);
        Assert.False(MerkleVerifier.VerifyConsistency(6, 13, root6, root13, proof.Skip(1).ToList()).IsValid);
    }

    [Theory]
    [InlineData("index equal to size", 8, 8, 32, 32, 32)]
    [InlineData("index beyond size", 9, 8, 32, 32, 32)]
    [InlineData("negative index", -1, 8, 32, 32, 32)]
    [InlineData("empty tree", 0, 0, 32, 32, 32)]
    [InlineData("negative size", 0, -8, 32, 32, 32)]
    [InlineData("short leaf hash", 3, 8, 31, 32, 32)]
    [InlineData("long leaf hash", 3, 8, 33, 32, 32)]
    [InlineData("short root", 3, 8, 32, 31, 32)]
    [InlineData("empty root", 3, 8, 32, 0, 32)]
    [InlineData("short proof hash", 3, 8, 32, 32, 31)]
    [InlineData("empty proof hash", 3, 8, 32, 32, 0)]
    public void Inclusion_rejects_malformed_input(string what, long index, long size, int leafLength, int rootLength, int proofHashLength)
    {
        var proof = Tree.InclusionProof(3, 8).Select(p => Resize(p, proofHashLength)).ToList();

        var result = MerkleVerifier.VerifyInclusion(index, size, Resize(Leaves[3], leafLength), proof, Resize(Tree.RootHash(8), rootLength));

        Assert.False(result.IsValid, what);
        Assert.False(string.IsNullOrEmpty(result.Failure));
    }

    [Theory]
    [InlineData("size1 above size2", 9, 8, 32, 32, 32)]
    [InlineData("negative size1", -1, 8, 32, 32, 32)]
    [InlineData("negative sizes", -8, -8, 32, 32, 32)]
    [InlineData("size1 zero with a proof", 0, 8, 32, 32, 32)]
    [InlineData("short first root", 3, 8, 31, 32, 32)]
    [InlineData("short second root", 3, 8, 32, 31, 32)]
    [InlineData("long proof hash", 3, 8, 32, 32, 33)]
    [InlineData("empty proof hash", 3, 8, 32, 32, 0)]
    public void Consistency_rejects_malformed_input(string what, long size1, long size2, int root1Length, int root2Length, int proofHashLength)
    {
        var proof = Tree.ConsistencyProof(3, 8).Select(p => Resize(p, proofHashLength)).ToList();

        var result = MerkleVerifier.VerifyConsistency(
            size1, size2, Resize(Tree.RootHash(3), root1Length), Resize(Tree.RootHash(8), root2Length), proof);

        Assert.False(result.IsValid, what);
        Assert.False(string.IsNullOrEmpty(result.Failure));
    }

    [Fact]
    public void Consistency_rejects_a_proof_from_the_empty_tree_even_when_empty()
    {
        Assert.False(MerkleVerifier.VerifyConsistency(0, 8, MerkleHash.EmptyRoot, Tree.RootHash(8), []).IsValid);
    }

    [Fact]
    public void Consistency_of_equal_sizes_needs_an_empty_proof_and_equal_roots()
    {
        var root = Tree.RootHash(8);

        Assert.True(MerkleVerifier.VerifyConsistency(8, 8, root, root, []).IsValid);
        Assert.False(MerkleVerifier.VerifyConsistency(8, 8, root, Tree.RootHash(7), []).IsValid);
        Assert.False(MerkleVerifier.VerifyConsistency(8, 8, root, root, [root]).IsValid);
        Assert.True(MerkleVerifier.VerifyConsistency(0, 0, MerkleHash.EmptyRoot, MerkleHash.EmptyRoot, []).IsValid);
        Assert.False(MerkleVerifier.VerifyConsistency(0, 0, root, root, []).IsValid);
    }

    [Fact]
    public void A_missing_proof_hash_is_a_failure_and_a_missing_proof_list_a_programming_error()
    {
        var proof = Tree.InclusionProof(3, 8).ToList();
        proof[1] = null!;

        Assert.False(MerkleVerifier.VerifyInclusion(3, 8, Leaves[3], proof, Tree.RootHash(8)).IsValid);
        Assert.Throws<ArgumentNullException>(() => MerkleVerifier.VerifyInclusion(3, 8, Leaves[3], null!, Tree.RootHash(8)));
        Assert.Throws<ArgumentNullException>(() => MerkleVerifier.VerifyConsistency(3, 8, Tree.RootHash(3), Tree.RootHash(8), null!));
    }

    /// <summary>Every single-bit change of the first hash, each proof hash, and the last hash.</summary>
    private static IEnumerable<(string What, byte[] First, IReadOnlyList<byte[]> Proof, byte[] Last)> Tamperings(
        byte[] first, IReadOnlyList<byte[]> proof, byte[] last)
    {
        for (var bit = 0; bit < first.Length * 8; bit++)
        {
            yield return ($"first hash bit {bit} flipped", Flip(first, bit), proof, last);
            yield return ($"last hash bit {bit} flipped", first, proof, Flip(last, bit));
        }

        for (var i = 0; i < proof.Count; i++)
        {
            for (var bit = 0; bit < proof[i].Length * 8; bit++)
            {
                var tampered = proof.ToArray();
                tampered[i] = Flip(proof[i], bit);
                yield return ($"proof hash {i} bit {bit} flipped", first, tampered, last);
            }
        }
    }

    private static byte[] Flip(byte[] hash, int bit)
    {
        var copy = hash.ToArray();
        copy[bit / 8] ^= (byte)(1 << (bit % 8));
        return copy;
    }

    private static byte[] Resize(byte[] hash, int length)
    {
        var resized = new byte[length];
        hash.AsSpan(0, Math.Min(length, hash.Length)).CopyTo(resized);
        return resized;
    }

    private static MerkleTree Build()
    {
        var tree = new MerkleTree();
        foreach (var leaf in Leaves)
        {
            tree.Append(leaf);
        }

        return tree;
    }
}
