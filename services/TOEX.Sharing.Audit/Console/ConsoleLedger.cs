using System.Globalization;
using System.Security.Claims;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using TOEX.Sharing.Audit.Apis;
using TOEX.Sharing.Audit.Data;
using TOEX.Sharing.Audit.Ledger;
using TOEX.Sharing.Contracts;
using TOEX.Sharing.Ledger;
using TOEX.Sharing.Sealing;
using TOEX.Sharing.ServiceDefaults;

namespace TOEX.Sharing.Audit.Console;

/// <summary>One ledger entry as the console shows it, its canonical record's detail parsed.</summary>
public sealed record ConsoleEntry(
    long Index, string Type, DateTimeOffset At, string Actor, string Justification, IReadOnlyList<string> Recipients, Guid? PackageId,
    string? Originator, string? Partner, string? Agreement, string? Outcome, string LeafHash, JsonElement Detail)
{
    public static ConsoleEntry From(LedgerEntry e)
    {
        ArgumentNullException.ThrowIfNull(e);
        using var canonical = JsonDocument.Parse(e.Canonical);
        var detail = canonical.RootElement.TryGetProperty("detail", out var d) ? d.Clone() : default;
        return new(e.Index, e.Type, DateTimeOffset.FromUnixTimeMilliseconds(e.AtUnixMs), e.Actor, e.Justification,
            ToexJson.Deserialize<List<string>>(e.RecipientsJson), e.PackageId, e.Originator, e.Partner, e.Agreement, e.Outcome, e.LeafHash, detail);
    }

    public string? Text(string name) =>
        Detail.ValueKind == JsonValueKind.Object && Detail.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;

    public IReadOnlyList<string> Texts(string name) =>
        Detail.ValueKind == JsonValueKind.Object && Detail.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Array
            ? [.. v.EnumerateArray().Where(i => i.ValueKind == JsonValueKind.String).Select(i => i.GetString()!)]
            : [];

    public T? Read<T>(string name) where T : class =>
        Detail.ValueKind == JsonValueKind.Object && Detail.TryGetProperty(name, out var v) && v.ValueKind != JsonValueKind.Null
            ? v.Deserialize<T>(ToexJson.Options) : null;
}

/// <summary>An entry's inclusion in a signed tree head, checked here as an auditor would check it.</summary>
public sealed record InclusionCheck(long Index, bool Included, string? Failure);

/// <summary>The signed tree head the console checks against, and whether its signature verifies with the service's public keys.</summary>
public sealed record CheckedHead(SignedTreeHead Head, bool SignatureValid)
{
    public string RootHex => Convert.ToHexStringLower(Head.RootHash);
}

/// <summary>
/// What the console reads from the ledger, always through the API's own filter (<see cref="EntryFilter"/>) and scope
/// (<see cref="LedgerScope"/>): an officer sees in the console exactly what the audit API would show them.
/// </summary>
public sealed class ConsoleLedger(
    AuditDb db, LedgerTree tree, TreeHeadSigner signer, IKeyRing keys, Governance governance, SubjectBlindIndex blindIndex, TimeProvider time)
{
    public const int PageSize = 50;

    public bool IsCustodian(ClaimsPrincipal user) => governance.IsCustodian(user);

    public DateTimeOffset Now => time.GetUtcNow();

    /// <summary>A search as the entries route does it; null items with the errors when the query is invalid.</summary>
    public async Task<(EntryFilter? Filter, Dictionary<string, string[]> Errors, IReadOnlyList<ConsoleEntry> Items, long? Next)> SearchAsync(
        ClaimsPrincipal user, EntryQuery query, CancellationToken cancellationToken)
    {
        var (filter, errors) = EntryFilter.Parse(query, blindIndex, subjectRequired: false);
        if (filter is null)
        {
            return (null, errors, [], null);
        }
        var page = await filter.Apply(db).VisibleTo(db, user, governance).OrderBy(e => e.Index).Take(filter.Limit + 1).ToListAsync(cancellationToken);
        long? next = null;
        if (page.Count > filter.Limit)
        {
            page.RemoveAt(page.Count - 1);
            next = page[^1].Index;
        }
        return (filter, errors, [.. page.Select(ConsoleEntry.From)], next);
    }

    /// <summary>Every entry about a package that <paramref name="user"/> may read, in ledger order (none: not theirs, or no such package).</summary>
    public async Task<IReadOnlyList<ConsoleEntry>> PackageAsync(ClaimsPrincipal user, Guid packageId, CancellationToken cancellationToken)
    {
        var filter = new EntryFilter { Package = packageId };
        var entries = await filter.Apply(db).VisibleTo(db, user, governance).OrderBy(e => e.Index).ToListAsync(cancellationToken);
        return [.. entries.Select(ConsoleEntry.From)];
    }

    /// <summary>The references of packages, from the submission and release entries <paramref name="user"/> may read.</summary>
    public async Task<IReadOnlyDictionary<Guid, string>> ReferencesAsync(ClaimsPrincipal user, IEnumerable<Guid> packages, CancellationToken cancellationToken)
    {
        var ids = packages.Distinct().Select(p => (Guid?)p).ToList();
        var entries = await new EntryFilter().Apply(db).VisibleTo(db, user, governance)
            .Where(e => ids.Contains(e.PackageId) && (e.Type == "submission" || e.Type == "release")).ToListAsync(cancellationToken);
        return entries.Select(ConsoleEntry.From).Where(e => e.Text("reference") is not null)
            .GroupBy(e => e.PackageId!.Value).ToDictionary(g => g.Key, g => g.First().Text("reference")!);
    }

    /// <summary>Entries of <paramref name="types"/> visible to <paramref name="user"/> from <paramref name="from"/> on, in ledger order.</summary>
    public async Task<IReadOnlyList<ConsoleEntry>> OfTypesAsync(ClaimsPrincipal user, IReadOnlyList<string> types, DateTimeOffset from,
        CancellationToken cancellationToken)
    {
        var list = types.ToList();
        var since = from.ToUnixTimeMilliseconds();
        var entries = await new EntryFilter().Apply(db).VisibleTo(db, user, governance)
            .Where(e => list.Contains(e.Type) && e.AtUnixMs >= since).OrderBy(e => e.Index).Take(20_000).ToListAsync(cancellationToken);
        return [.. entries.Select(ConsoleEntry.From)];
    }

    /// <summary>The current tree head, signed now, and its signature checked against the service's published keys.</summary>
    public async Task<CheckedHead> HeadAsync(CancellationToken cancellationToken)
    {
        await tree.CatchUpAsync(db, cancellationToken);
        var head = signer.Sign(tree.Tree.Size);
        using var key = JsonWebKeys.FindVerificationKey(keys.PublicJwks(), head.KeyId, "The audit service's JWKS");
        return new CheckedHead(head, key is not null && head.VerifySignature(key));
    }

    /// <summary>Each entry's inclusion proof (from the service's tree) verified against <paramref name="head"/>'s signed root.</summary>
    public IReadOnlyList<InclusionCheck> Inclusion(IEnumerable<ConsoleEntry> entries, CheckedHead head) =>
        [.. entries.Select(e =>
        {
            if (e.Index >= head.Head.TreeSize)
            {
                return new InclusionCheck(e.Index, false, "appended after the tree head was signed");
            }
            var result = MerkleVerifier.VerifyInclusion(e.Index, head.Head.TreeSize, Convert.FromHexString(e.LeafHash),
                tree.Tree.InclusionProof(e.Index, head.Head.TreeSize), head.Head.RootHash);
            return new InclusionCheck(e.Index, result.IsValid && head.SignatureValid, result.IsValid ? (head.SignatureValid ? null : "the tree head's signature does not verify") : result.Failure);
        })];

    /// <summary>Whether the tree of <paramref name="size"/> leaves with root <paramref name="root"/> is a prefix of <paramref name="head"/>'s tree.</summary>
    public VerificationResult Consistency(long size, byte[] root, CheckedHead head)
    {
        if (size > head.Head.TreeSize)
        {
            return VerificationResult.Invalid($"The head you saw had {size} entries; the ledger now has {head.Head.TreeSize}: entries were lost.");
        }
        if (size == 0)
        {
            return VerificationResult.Valid;
        }
        var proof = size == head.Head.TreeSize ? [] : tree.Tree.ConsistencyProof(size, head.Head.TreeSize);
        return MerkleVerifier.VerifyConsistency(size, head.Head.TreeSize, root, head.Head.RootHash, proof);
    }

    /// <summary>The evidence bundle of one package's entries (custodians only, as the export route).</summary>
    public Task<EvidenceBundle> BundleAsync(ClaimsPrincipal user, EntryFilter filter, CancellationToken cancellationToken) =>
        LedgerApi.BundleAsync(db, tree, signer, keys, filter, 0, long.MaxValue, user, governance, cancellationToken);

    /// <summary>The last tree head this officer was shown (from their own integrity consultations in the ledger), if any.</summary>
    public async Task<(long Size, byte[] Root, DateTimeOffset At)?> LastSeenHeadAsync(ClaimsPrincipal user, CancellationToken cancellationToken)
    {
        var actor = ServiceDefaults.Authentication.Actor(user);
        var seen = await db.Entries.AsNoTracking()
            .Where(e => e.Type == "consultation" && e.Actor == actor && e.Canonical.Contains("\"kind\":\"" + IntegrityKind + "\""))
            .OrderByDescending(e => e.Index).FirstOrDefaultAsync(cancellationToken);
        if (seen is null)
        {
            return null;
        }
        var entry = ConsoleEntry.From(seen);
        return entry.Detail.TryGetProperty("treeSize", out var size) && entry.Text("rootHash") is { } root
            ? (size.GetInt64(), Convert.FromHexString(root), entry.At)
            : null;
    }

    /// <summary>The consultation kind recorded when an officer is shown a tree head (what "the last head seen" is read from).</summary>
    public const string IntegrityKind = "console-integrity";

    public static string Abbreviated(string hex) => hex.Length > 16 ? hex[..16] + "…" : hex;

    public static string When(DateTimeOffset at) => at.UtcDateTime.ToString("d MMM yyyy HH:mm:ss 'UTC'", CultureInfo.InvariantCulture);
}
