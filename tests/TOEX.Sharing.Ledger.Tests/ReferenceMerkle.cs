using System.Security.Cryptography;

namespace TOEX.Sharing.Ledger.Tests;

/// <summary>
/// RFC 9162 §2.1.1, §2.1.3.1 and §2.1.4.1 read literally: recursive, O(n) per call, hashing with
/// SHA-256 directly rather than through <see cref="MerkleHash"/>. The oracle the tree is checked against.
/// </summary>
internal static class ReferenceMerkle
{
    public static byte[] Leaf(ReadOnlySpan<byte> entry) => SHA256.HashData([0x00, .. entry]);

    /// <summary>MTH(D_n) over leaf hashes.</summary>
    public static byte[] Mth(ReadOnlySpan<byte[]> d) => d.Length switch
    {
        0 => SHA256.HashData([]),
        1 => d[0],
        _ => Node(Mth(d[..K(d.Length)]), Mth(d[K(d.Length)..])),
    };

    /// <summary>PATH(m, D_n).</summary>
    public static List<byte[]> Path(int m, ReadOnlySpan<byte[]> d)
    {
        if (d.Length == 1)
        {
            return [];
        }

        var k = K(d.Length);
        return m < k
            ? [.. Path(m, d[..k]), Mth(d[k..])]
            : [.. Path(m - k, d[k..]), Mth(d[..k])];
    }

    /// <summary>PROOF(m, D_n) = SUBPROOF(m, D_n, true).</summary>
    public static List<byte[]> Proof(int m, ReadOnlySpan<byte[]> d) => SubProof(m, d, true);

    /// <summary>Leaf hashes of distinct entries, <c>i</c> → SHA-256(0x00 || "entry i").</summary>
    public static byte[][] Leaves(int count) =>
        [.. Enumerable.Range(0, count).Select(i => Leaf(System.Text.Encoding.UTF8.GetBytes($"entry {i}")))];

    private static List<byte[]> SubProof(int m, ReadOnlySpan<byte[]> d, bool b)
    {
        if (m == d.Length)
        {
            return b ? [] : [Mth(d)];
        }

        var k = K(d.Length);
        return m <= k
            ? [.. SubProof(m, d[..k], b), Mth(d[k..])]
            : [.. SubProof(m - k, d[k..], false), Mth(d[..k])];
    }

    private static byte[] Node(byte[] left, byte[] right) => SHA256.HashData([0x01, .. left, .. right]);

    /// <summary>The largest power of two smaller than n (n &gt; 1).</summary>
    private static int K(int n)
    {
        var k = 1;
        while (k * 2 < n)
        {
            k *= 2;
        }

        return k;
    }
}
