using System.Security.Cryptography;

namespace TOEX.Sharing.Ledger.Tests;

public sealed class MerkleHashTests
{
    [Fact]
    public void Empty_root_is_the_SHA256_of_nothing()
    {
        Assert.Equal(SHA256.HashData([]), MerkleHash.EmptyRoot.ToArray());
    }

    [Fact]
    public void Leaf_hash_prefixes_the_entry_with_0x00()
    {
        byte[] entry = [0x61, 0x62, 0x63];

        Assert.Equal(SHA256.HashData([0x00, .. entry]), MerkleHash.LeafHash(entry));
        Assert.Equal("6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d", Convert.ToHexStringLower(MerkleHash.LeafHash([])));
    }

    [Fact]
    public void Node_hash_prefixes_the_children_with_0x01()
    {
        var left = SHA256.HashData([1]);
        var right = SHA256.HashData([2]);

        Assert.Equal(SHA256.HashData([0x01, .. left, .. right]), MerkleHash.NodeHash(left, right));
        Assert.NotEqual(MerkleHash.NodeHash(left, right), MerkleHash.NodeHash(right, left));
    }

    [Theory]
    [InlineData(31, 32)]
    [InlineData(32, 33)]
    [InlineData(0, 0)]
    public void Node_hash_refuses_children_that_are_not_32_bytes(int left, int right)
    {
        Assert.Throws<ArgumentException>(() => MerkleHash.NodeHash(new byte[left], new byte[right]));
    }
}
