using System.CommandLine;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using TOEX.Sharing.Ledger;
using TOEX.Sharing.Sealing;

namespace TOEX.Sharing.Cli;

/// <summary><c>toex audit verify</c>: checks an evidence bundle offline (EVIDENCE-BUNDLE.md of the audit service).</summary>
public static class AuditCommands
{
    private static readonly JsonSerializerOptions BundleJson = new(JsonSerializerDefaults.Web)
    {
        AllowDuplicateProperties = false,
        RespectNullableAnnotations = true,
    };

    public static Command Create()
    {
        var bundle = new Option<FileInfo>("--bundle")
        {
            Description = "The evidence bundle, as exported from GET /api/v1/audit/export.",
            Required = true,
        };
        var jwks = new Option<string?>("--jwks")
        {
            Description = "The audit service's public keys (its /.well-known/jwks.json), obtained independently: "
                + $"{JwksSource.Help}, e.g. http://127.0.0.1:5081/.well-known/jwks.json. "
                + "Without it the bundle's own keys are used, which proves only that the bundle is self-consistent.",
        };
        var verify = new Command("verify", "Verifies an evidence bundle: entry hashes, tree rebuild or inclusion proofs, tree-head signatures, "
            + "consistency with earlier signed heads. Exit 1 naming the first entry or head that fails.")
        {
            bundle,
            jwks,
        };
        verify.SetAction((parseResult, cancellationToken) =>
            VerifyAsync(parseResult, parseResult.GetRequiredValue(bundle), parseResult.GetValue(jwks), cancellationToken));
        return new Command("audit", "Audit ledger evidence and reconciliation.") { verify, AuditReconcile.Create() };
    }

    private static async Task<int> VerifyAsync(ParseResult parseResult, FileInfo bundleFile, string? jwksSource, CancellationToken cancellationToken)
    {
        var output = parseResult.InvocationConfiguration.Output;
        var error = parseResult.InvocationConfiguration.Error;

        EvidenceBundle bundle;
        string jwks;
        try
        {
            bundle = ReadBundle(bundleFile);
            jwks = jwksSource is not null
                ? await JwksSource.ReadAsync(jwksSource, cancellationToken)
                : bundle.Jwks.ValueKind == JsonValueKind.Object
                    ? bundle.Jwks.GetRawText()
                    : throw new SealException($"'{bundleFile}' holds no 'jwks'; give the audit service's keys with --jwks.");
            // Reject a malformed key set now, as a usage error, rather than as a failed signature later.
            using var unused = JsonWebKeys.FindVerificationKey(jwks, "", jwksSource is null ? "The bundle's 'jwks'" : $"'{jwksSource}'");
        }
        catch (SealException exception)
        {
            error.WriteLine($"toex audit verify: {exception.Message}");
            return ExitCodes.Usage;
        }

        using var verifier = new BundleVerifier(bundle, jwks);
        var finding = verifier.Verify();
        if (finding is not null)
        {
            error.WriteLine($"toex audit verify: FAILED: {finding}");
            return ExitCodes.Finding;
        }

        var head = bundle.TreeHead;
        var range = bundle.Entries.Count == 0 ? "none" : $"indexes {bundle.Entries[0].Index} to {bundle.Entries[^1].Index}";
        output.WriteLine($"Verified {bundle.Entries.Count} entries ({range}) against the tree head of size {head.TreeSize}, "
            + $"root {head.RootHash}, signed {head.Timestamp.ToString("O", CultureInfo.InvariantCulture)} by key '{head.KeyId}'.");
        output.WriteLine($"{bundle.StoredTreeHeads.Count} earlier signed tree head(s) verified and consistent with it.");
        if (jwksSource is null)
        {
            // Anyone can make a self-consistent bundle with keys of their own: without the audit service's keys, obtained
            // independently, nothing says who signed it.
            error.WriteLine("toex audit verify: NOT PROVEN: verified with the bundle's own keys, which proves only that the bundle is "
                + "self-consistent; give --jwks with the audit service's published keys to prove who signed it.");
            return ExitCodes.Finding;
        }
        return ExitCodes.Success;
    }

    private static EvidenceBundle ReadBundle(FileInfo file)
    {
        string text;
        try
        {
            text = File.ReadAllText(file.FullName);
        }
        catch (Exception exception) when (exception is FileNotFoundException or DirectoryNotFoundException)
        {
            throw new SealException($"'{file}' does not exist.");
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
        {
            throw new SealException($"'{file}' cannot be read: {exception.Message}");
        }

        EvidenceBundle? bundle;
        try
        {
            bundle = JsonSerializer.Deserialize<EvidenceBundle>(text, BundleJson);
        }
        catch (JsonException exception)
        {
            throw new SealException($"'{file}' is not an evidence bundle: {exception.Message}");
        }

        if (bundle is null || bundle.Format != EvidenceBundle.CurrentFormat)
        {
            throw new SealException($"'{file}' is not an evidence bundle of format {EvidenceBundle.CurrentFormat}.");
        }
        if (bundle.Entries is null || bundle.TreeHead is null || bundle.StoredTreeHeads is null || bundle.ConsistencyProofs is null
            || bundle.Entries.Any(e => e is null) || bundle.StoredTreeHeads.Any(h => h is null) || bundle.ConsistencyProofs.Any(p => p is null)
            || bundle.InclusionProofs?.Any(p => p is null) == true)
        {
            throw new SealException($"'{file}' lacks a member of an evidence bundle (entries, treeHead, storedTreeHeads, consistencyProofs).");
        }
        return bundle;
    }
}

/// <summary>The checks of one bundle, in order; the first failure is the finding.</summary>
internal sealed class BundleVerifier(EvidenceBundle bundle, string jwks) : IDisposable
{
    private readonly Dictionary<string, ECDsa?> _keys = new(StringComparer.Ordinal);

    /// <summary>Null when everything verifies; otherwise what failed first, naming the entry's index or the head.</summary>
    public string? Verify()
    {
        var leaves = new List<byte[]>(bundle.Entries.Count);
        var complete = bundle.InclusionProofs is null;
        // A selection (a package's entries, a subject's…) skips indexes; each entry is then proven on its own.
        var selected = bundle.Selection is { ValueKind: JsonValueKind.Object } && !complete;
        long? previous = null;
        foreach (var entry in bundle.Entries)
        {
            var expected = previous + 1 ?? (complete ? 0 : entry.Index);
            if (selected && entry.Index > expected)
            {
                expected = entry.Index;
            }
            if (entry.Index > expected)
            {
                return $"entry at index {expected}: missing (the bundle goes from index {(previous is { } p ? p.ToString(CultureInfo.InvariantCulture) : "none")} to {entry.Index}).";
            }
            if (entry.Index < expected)
            {
                return $"entry at index {entry.Index}: out of order (it follows index {previous}).";
            }
            if (EntryFinding(entry, out var leaf) is { } finding)
            {
                return $"entry at index {entry.Index}: {finding}";
            }
            leaves.Add(leaf);
            previous = entry.Index;
        }

        if (HeadFinding(bundle.TreeHead, out var head) is { } headFinding)
        {
            return $"tree head (size {bundle.TreeHead.TreeSize}): {headFinding}";
        }

        if ((complete ? TreeFinding(head, leaves) : InclusionFinding(head, leaves)) is { } treeFinding)
        {
            return treeFinding;
        }

        for (var i = 0; i < bundle.StoredTreeHeads.Count; i++)
        {
            var document = bundle.StoredTreeHeads[i];
            var name = $"stored tree head #{i + 1} (size {document.TreeSize}, signed {document.Timestamp.ToString("O", CultureInfo.InvariantCulture)})";
            if (HeadFinding(document, out var stored) is { } storedFinding)
            {
                return $"{name}: {storedFinding}";
            }
            if (ConsistencyFinding(stored, head) is { } consistencyFinding)
            {
                return $"{name}: {consistencyFinding}";
            }
        }
        return null;
    }

    public void Dispose()
    {
        foreach (var key in _keys.Values)
        {
            key?.Dispose();
        }
    }

    private static string? EntryFinding(BundleEntry entry, out byte[] leaf)
    {
        leaf = MerkleHash.LeafHash(Encoding.UTF8.GetBytes(entry.Canonical));
        if (!TryBase64(entry.LeafHash, out var stated) || !leaf.AsSpan().SequenceEqual(stated))
        {
            return "its canonical record does not hash to its leaf hash: the entry was altered.";
        }
        try
        {
            using var record = JsonDocument.Parse(entry.Canonical);
            if (record.RootElement.ValueKind != JsonValueKind.Object
                || !record.RootElement.TryGetProperty("index", out var index)
                || !index.TryGetInt64(out var recorded))
            {
                return "its canonical record holds no index.";
            }
            return recorded == entry.Index
                ? null
                : $"its canonical record is entry {recorded}'s: entries were reordered or moved.";
        }
        catch (JsonException)
        {
            return "its canonical record is not valid JSON.";
        }
    }

    private string? HeadFinding(TreeHeadDocument document, out SignedTreeHead head)
    {
        head = null!;
        try
        {
            head = document.ToSignedTreeHead();
        }
        catch (FormatException)
        {
            return "its root hash or signature is not base64.";
        }
        if (head.KeyId is null || Key(head.KeyId) is not { } key)
        {
            return $"signed by key '{head.KeyId}', which the JWKS does not hold.";
        }
        return head.VerifySignature(key) ? null : "its signature does not verify.";
    }

    private static string? TreeFinding(SignedTreeHead head, List<byte[]> leaves)
    {
        if (leaves.Count < head.TreeSize)
        {
            return $"entry at index {leaves.Count}: missing (the signed tree head covers {head.TreeSize} entries, the bundle holds {leaves.Count}).";
        }
        if (leaves.Count > head.TreeSize)
        {
            return $"entry at index {head.TreeSize}: beyond the signed tree head, which covers {head.TreeSize} entries.";
        }
        var tree = new MerkleTree();
        foreach (var leaf in leaves)
        {
            tree.Append(leaf);
        }
        return tree.RootHash().AsSpan().SequenceEqual(head.RootHash)
            ? null
            : $"tree head (size {head.TreeSize}): the root rebuilt from the entries differs from the signed root.";
    }

    private string? InclusionFinding(SignedTreeHead head, List<byte[]> leaves)
    {
        var proofs = new Dictionary<long, InclusionProofDocument>();
        foreach (var proof in bundle.InclusionProofs!)
        {
            proofs.TryAdd(proof.LeafIndex, proof);
        }
        for (var i = 0; i < leaves.Count; i++)
        {
            var index = bundle.Entries[i].Index;
            if (!proofs.TryGetValue(index, out var proof) || proof.AuditPath is null)
            {
                return $"entry at index {index}: no inclusion proof in the bundle.";
            }
            if (proof.TreeSize != head.TreeSize)
            {
                return $"entry at index {index}: its inclusion proof is for a tree of {proof.TreeSize} entries, not the signed head's {head.TreeSize}.";
            }
            if (!TryBase64(proof.AuditPath, out var path))
            {
                return $"entry at index {index}: its inclusion proof is not base64.";
            }
            var result = MerkleVerifier.VerifyInclusion(index, head.TreeSize, leaves[i], path, head.RootHash);
            if (!result.IsValid)
            {
                return $"entry at index {index}: not included in the signed tree head: {result.Failure}";
            }
        }
        return null;
    }

    private string? ConsistencyFinding(SignedTreeHead stored, SignedTreeHead head)
    {
        if (stored.TreeSize > head.TreeSize)
        {
            return $"larger than the exported tree head (size {head.TreeSize}): the entries from index {head.TreeSize} are missing (the ledger was truncated).";
        }
        if (stored.TreeSize == 0)
        {
            return null;
        }
        if (stored.TreeSize == head.TreeSize)
        {
            return stored.RootHash.AsSpan().SequenceEqual(head.RootHash)
                ? null
                : "same size as the exported tree head but a different root: the ledger was rewritten.";
        }
        var proof = bundle.ConsistencyProofs.FirstOrDefault(p => p.From == stored.TreeSize && p.To == head.TreeSize);
        if (proof?.Proof is null)
        {
            return $"the bundle holds no consistency proof from size {stored.TreeSize} to {head.TreeSize}.";
        }
        if (!TryBase64(proof.Proof, out var hashes))
        {
            return "its consistency proof is not base64.";
        }
        var result = MerkleVerifier.VerifyConsistency(stored.TreeSize, head.TreeSize, stored.RootHash, head.RootHash, hashes);
        return result.IsValid
            ? null
            : $"the exported tree head does not extend it: an entry below index {stored.TreeSize} was changed, removed or reordered ({result.Failure})";
    }

    private ECDsa? Key(string keyId)
    {
        if (!_keys.TryGetValue(keyId, out var key))
        {
            key = JsonWebKeys.FindVerificationKey(jwks, keyId, "The JWKS");
            _keys[keyId] = key;
        }
        return key;
    }

    private static bool TryBase64(string? text, out byte[] bytes)
    {
        bytes = [];
        if (text is null)
        {
            return false;
        }
        try
        {
            bytes = Convert.FromBase64String(text);
            return true;
        }
        catch (FormatException)
        {
            return false;
        }
    }

    private static bool TryBase64(IReadOnlyList<string> texts, out List<byte[]> hashes)
    {
        hashes = new List<byte[]>(texts.Count);
        foreach (var text in texts)
        {
            if (!TryBase64(text, out var hash))
            {
                return false;
            }
            hashes.Add(hash);
        }
        return true;
    }
}
