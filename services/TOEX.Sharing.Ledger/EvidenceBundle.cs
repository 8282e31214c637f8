using System.Text.Json;

namespace TOEX.Sharing.Ledger;

/// <summary>
/// An evidence bundle (<c>toex-audit-bundle/1</c>): ledger entries with what an auditor needs to check them
/// offline against signed tree heads. Hashes and signatures are base64. See the audit service's
/// <c>EVIDENCE-BUNDLE.md</c>.
/// </summary>
public sealed record EvidenceBundle(
    string Format,
    IReadOnlyList<BundleEntry> Entries,
    TreeHeadDocument TreeHead,
    IReadOnlyList<TreeHeadDocument> StoredTreeHeads,
    IReadOnlyList<InclusionProofDocument>? InclusionProofs,
    IReadOnlyList<ConsistencyProofDocument> ConsistencyProofs,
    JsonElement Jwks)
{
    public const string CurrentFormat = "toex-audit-bundle/1";

    /// <summary>
    /// The filter the entries were selected by, when they are not a range of consecutive entries (a package, a subject,
    /// a period…): its entries are then in increasing index order, each with its inclusion proof. Null otherwise.
    /// </summary>
    public JsonElement? Selection { get; init; }
}

/// <summary>One ledger entry: its index, the exact canonical JSON that was hashed, and its leaf hash.</summary>
public sealed record BundleEntry(long Index, string Canonical, string LeafHash);

/// <summary>A <see cref="SignedTreeHead"/> as JSON: hashes and signature in base64.</summary>
public sealed record TreeHeadDocument(long TreeSize, string RootHash, DateTimeOffset Timestamp, string KeyId, string Signature)
{
    public static TreeHeadDocument From(SignedTreeHead head)
    {
        ArgumentNullException.ThrowIfNull(head);
        return new(head.TreeSize, Convert.ToBase64String(head.RootHash), head.Timestamp, head.KeyId, Convert.ToBase64String(head.Signature));
    }

    /// <exception cref="FormatException">A hash or the signature is not base64.</exception>
    public SignedTreeHead ToSignedTreeHead() =>
        new(TreeSize, Convert.FromBase64String(RootHash), Timestamp, KeyId, Convert.FromBase64String(Signature));
}

/// <summary>The audit path of one leaf in the tree of <see cref="TreeSize"/> leaves (RFC 9162 §2.1.3).</summary>
public sealed record InclusionProofDocument(long LeafIndex, long TreeSize, string LeafHash, IReadOnlyList<string> AuditPath);

/// <summary>The proof that the tree of <see cref="From"/> leaves is a prefix of the tree of <see cref="To"/> (RFC 9162 §2.1.4).</summary>
public sealed record ConsistencyProofDocument(long From, long To, IReadOnlyList<string> Proof);
