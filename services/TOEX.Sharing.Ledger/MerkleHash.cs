using System.Security.Cryptography;

namespace TOEX.Sharing.Ledger;

/// <summary>
/// The hashes of RFC 9162 §2.1.1 with SHA-256: a leaf is <c>SHA-256(0x00 || entry)</c>, an interior
/// node <c>SHA-256(0x01 || left || right)</c>, and the empty tree's root is <c>SHA-256()</c>. The two
/// prefixes keep a leaf from ever being read as a node (second-preimage resistance).
/// </summary>
public static class MerkleHash
{
    /// <summary>The length in bytes of every hash in the tree.</summary>
    public const int Size = 32;

    private const byte LeafPrefix = 0x00;
    private const byte NodePrefix = 0x01;

    /// <summary>The root of the empty tree: SHA-256 of the empty string.</summary>
    public static ReadOnlySpan<byte> EmptyRoot =>
    [
        0xe3, 0xb0, 0xc4, 0x42, 0x98, 0xfc, 0x1c, 0x14, 0x9a, 0xfb, 0xf4, 0xc8, 0x99, 0x6f, 0xb9, 0x24,
        0x27, 0xae, 0x41, 0xe4, 0x64, 0x9b, 0x93, 0x4c, 0xa4, 0x95, 0x99, 0x1b, 0x78, 0x52, 0xb8, 0x55,
    ];

    /// <summary><c>SHA-256(0x00 || entry)</c>.</summary>
    public static byte[] LeafHash(ReadOnlySpan<byte> entry)
    {
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        sha.AppendData([LeafPrefix]);
        sha.AppendData(entry);
        return sha.GetHashAndReset();
    }

    /// <summary><c>SHA-256(0x01 || left || right)</c>; both children must be <see cref="Size"/> bytes.</summary>
    /// <exception cref="ArgumentException">A child is not a 32-byte hash.</exception>
    public static byte[] NodeHash(ReadOnlySpan<byte> left, ReadOnlySpan<byte> right)
    {
        var hash = new byte[Size];
        NodeHash(left, right, hash);
        return hash;
    }

    /// <summary>
    /// <see cref="NodeHash(ReadOnlySpan{byte}, ReadOnlySpan{byte})"/> into <paramref name="destination"/>,
    /// which may overlap either child.
    /// </summary>
    internal static void NodeHash(ReadOnlySpan<byte> left, ReadOnlySpan<byte> right, Span<byte> destination)
    {
        // Fixed-length children are what make left || right unambiguous.
        if (left.Length != Size || right.Length != Size)
        {
            throw new ArgumentException($"Merkle node children must be {Size}-byte hashes (got {left.Length} and {right.Length}).");
        }

        Span<byte> input = stackalloc byte[1 + (2 * Size)];
        input[0] = NodePrefix;
        left.CopyTo(input[1..]);
        right.CopyTo(input[(1 + Size)..]);
        SHA256.HashData(input, destination);
    }
}
