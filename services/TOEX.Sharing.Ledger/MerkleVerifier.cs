namespace TOEX.Sharing.Ledger;

/// <summary>
/// Checks inclusion and consistency proofs (RFC 9162 §2.1.3.2 and §2.1.4.2) without a tree: what an
/// auditor or a partner runs against a signed tree head. Pure; every malformed input is a failure, never
/// an exception (except a null proof list, which is a programming error).
/// </summary>
/// <remarks>
/// A proof binds hashes, not sizes: a subtree hash in a path looks the same whatever it covers, so one
/// path can fit several sizes (a proof from 6 to 13 leaves also checks as 6 to 14 or 16 against the same
/// root). The sizes must come, with the roots, from signed tree heads.
/// </remarks>
public static class MerkleVerifier
{
    /// <summary>
    /// Whether <paramref name="proof"/> shows the leaf <paramref name="leafHash"/> at
    /// <paramref name="leafIndex"/> in the tree of <paramref name="treeSize"/> leaves whose root is
    /// <paramref name="root"/>.
    /// </summary>
    public static VerificationResult VerifyInclusion(
        long leafIndex,
        long treeSize,
        ReadOnlySpan<byte> leafHash,
        IReadOnlyList<byte[]> proof,
        ReadOnlySpan<byte> root)
    {
        ArgumentNullException.ThrowIfNull(proof);
        if (treeSize <= 0)
        {
            return VerificationResult.Invalid($"No leaf is included in a tree of size {treeSize}.");
        }

        if (leafIndex < 0 || leafIndex >= treeSize)
        {
            return VerificationResult.Invalid($"Leaf index {leafIndex} is outside a tree of size {treeSize}.");
        }

        if ((Malformed(leafHash, "The leaf hash") ?? Malformed(root, "The root") ?? Malformed(proof)) is { } malformed)
        {
            return VerificationResult.Invalid(malformed);
        }

        var expected = InclusionProofLength(leafIndex, treeSize);
        if (proof.Count != expected)
        {
            return VerificationResult.Invalid(
                $"The proof has {proof.Count} hashes; leaf {leafIndex} of a tree of size {treeSize} needs {expected}.");
        }

        // §2.1.3.2 steps 2 to 5.
        var fn = leafIndex;
        var sn = treeSize - 1;
        Span<byte> r = stackalloc byte[MerkleHash.Size];
        leafHash.CopyTo(r);
        foreach (var p in proof)
        {
            if (sn == 0)
            {
                return VerificationResult.Invalid("The proof is longer than the leaf's path.");
            }

            if ((fn & 1) == 1 || fn == sn)
            {
                MerkleHash.NodeHash(p, r, r);
                while ((fn & 1) == 0 && fn != 0)
                {
                    fn >>= 1;
                    sn >>= 1;
                }
            }
            else
            {
                MerkleHash.NodeHash(r, p, r);
            }

            fn >>= 1;
            sn >>= 1;
        }

        if (sn != 0)
        {
            return VerificationResult.Invalid("The proof is shorter than the leaf's path.");
        }

        return r.SequenceEqual(root)
            ? VerificationResult.Valid
            : VerificationResult.Invalid("The root computed from the proof differs from the root given.");
    }

    /// <summary>
    /// Whether <paramref name="proof"/> shows that the tree of <paramref name="size1"/> leaves with root
    /// <paramref name="root1"/> is a prefix of the tree of <paramref name="size2"/> leaves with root
    /// <paramref name="root2"/>.
    /// </summary>
    /// <remarks>
    /// Equal sizes need an empty proof and equal roots, compared as given (the published vectors accept
    /// equal roots of any length there: nothing is hashed); at size 0 both must be
    /// <see cref="MerkleHash.EmptyRoot"/>. A proof from size 0 to a larger size is rejected: RFC 9162
    /// defines none, since every tree extends the empty one.
    /// </remarks>
    public static VerificationResult VerifyConsistency(
        long size1,
        long size2,
        ReadOnlySpan<byte> root1,
        ReadOnlySpan<byte> root2,
        IReadOnlyList<byte[]> proof)
    {
        ArgumentNullException.ThrowIfNull(proof);
        if (size1 < 0 || size2 < 0)
        {
            return VerificationResult.Invalid($"Tree sizes cannot be negative ({size1}, {size2}).");
        }

        if (size1 > size2)
        {
            return VerificationResult.Invalid($"The first size ({size1}) is larger than the second ({size2}).");
        }

        if (size1 == size2)
        {
            if (proof.Count != 0)
            {
                return VerificationResult.Invalid("Equal sizes need an empty proof.");
            }

            if (!root1.SequenceEqual(root2))
            {
                return VerificationResult.Invalid("Equal sizes but different roots.");
            }

            return size1 != 0 || root1.SequenceEqual(MerkleHash.EmptyRoot)
                ? VerificationResult.Valid
                : VerificationResult.Invalid("The root of the empty tree is SHA-256 of the empty string.");
        }

        if (size1 == 0)
        {
            return VerificationResult.Invalid("There is no consistency proof from the empty tree.");
        }

        if ((Malformed(root1, "The first root") ?? Malformed(root2, "The second root") ?? Malformed(proof)) is { } malformed)
        {
            return VerificationResult.Invalid(malformed);
        }

        // §2.1.4.2 step 1.
        if (proof.Count == 0)
        {
            return VerificationResult.Invalid("A proof between different sizes cannot be empty.");
        }

        var expected = ConsistencyProofLength(size1, size2);
        if (proof.Count != expected)
        {
            return VerificationResult.Invalid(
                $"The proof has {proof.Count} hashes; from size {size1} to {size2} it needs {expected}.");
        }

        // §2.1.4.2 step 2: when size1 is a power of two, its root is the first hash of the path.
        IReadOnlyList<byte[]> path = (size1 & (size1 - 1)) == 0 ? [root1.ToArray(), .. proof] : proof;

        // Steps 3 to 7.
        var fn = size1 - 1;
        var sn = size2 - 1;
        while ((fn & 1) == 1)
        {
            fn >>= 1;
            sn >>= 1;
        }

        Span<byte> fr = stackalloc byte[MerkleHash.Size];
        Span<byte> sr = stackalloc byte[MerkleHash.Size];
        path[0].CopyTo(fr);
        path[0].CopyTo(sr);
        for (var i = 1; i < path.Count; i++)
        {
            var c = path[i];
            if (sn == 0)
            {
                return VerificationResult.Invalid("The proof is longer than the path between the trees.");
            }

            if ((fn & 1) == 1 || fn == sn)
            {
                MerkleHash.NodeHash(c, fr, fr);
                MerkleHash.NodeHash(c, sr, sr);
                while ((fn & 1) == 0 && fn != 0)
                {
                    fn >>= 1;
                    sn >>= 1;
                }
            }
            else
            {
                MerkleHash.NodeHash(sr, c, sr);
            }

            fn >>= 1;
            sn >>= 1;
        }

        if (sn != 0)
        {
            return VerificationResult.Invalid("The proof is shorter than the path between the trees.");
        }

        if (!fr.SequenceEqual(root1))
        {
            return VerificationResult.Invalid("The first root computed from the proof differs from the one given.");
        }

        return sr.SequenceEqual(root2)
            ? VerificationResult.Valid
            : VerificationResult.Invalid("The second root computed from the proof differs from the one given.");
    }

    /// <summary>The length of PATH(index, D[0:size]) (RFC 9162 §2.1.3.1), 0 ≤ index &lt; size.</summary>
    internal static int InclusionProofLength(long index, long size)
    {
        var length = 0;
        for (; size > 1; length++)
        {
            var k = MerkleTree.Split(size);
            if (index < k)
            {
                size = k;
            }
            else
            {
                index -= k;
                size -= k;
            }
        }

        return length;
    }

    /// <summary>The length of PROOF(size1, D[0:size2]) (RFC 9162 §2.1.4.1), 0 &lt; size1 ≤ size2.</summary>
    internal static int ConsistencyProofLength(long size1, long size2)
    {
        var length = 0;
        var complete = true;
        for (; size1 != size2; length++)
        {
            var k = MerkleTree.Split(size2);
            if (size1 <= k)
            {
                size2 = k;
            }
            else
            {
                size1 -= k;
                size2 -= k;
                complete = false;
            }
        }

        return complete ? length : length + 1;
    }

    private static string? Malformed(ReadOnlySpan<byte> hash, string what) =>
        hash.Length == MerkleHash.Size ? null : $"{what} is {hash.Length} bytes, not {MerkleHash.Size}.";

    private static string? Malformed(IReadOnlyList<byte[]> proof)
    {
        for (var i = 0; i < proof.Count; i++)
        {
            if (proof[i] is null)
            {
                return $"Proof hash {i} is missing.";
            }

            if (proof[i].Length != MerkleHash.Size)
            {
                return $"Proof hash {i} is {proof[i].Length} bytes, not {MerkleHash.Size}.";
            }
        }

        return null;
    }
}
