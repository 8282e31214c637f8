using System.Globalization;
using System.Security.Claims;
using System.Text.Json;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using TOEX.Sharing.Audit.Data;
using TOEX.Sharing.Audit.Ledger;
using TOEX.Sharing.Ledger;
using TOEX.Sharing.Sealing;

using TOEX.Sharing.ServiceDefaults;

namespace TOEX.Sharing.Audit.Apis;

/// <summary>The ledger's Merkle tree: signed tree heads, inclusion and consistency proofs, evidence bundles.</summary>
public static class LedgerApi
{

    /// <summary>The current tree head, signed now.</summary>
    public static async Task<Ok<TreeHeadDocument>> GetTreeHead(
        AuditDb db, LedgerTree tree, TreeHeadSigner signer, CancellationToken cancellationToken)
    {
        await tree.CatchUpAsync(db, cancellationToken);
        return TypedResults.Ok(TreeHeadDocument.From(signer.Sign(tree.Tree.Size)));
    }

    /// <summary>The audit path of leaf <c>index</c> in the tree of <c>treeSize</c> leaves (default: the current size).</summary>
    /// <remarks>A caller other than a custodian gets proofs only of the entries it may read (<see cref="LedgerScope"/>); any other index is 404.</remarks>
    public static async Task<Results<Ok<InclusionProofDocument>, ValidationProblem, NotFound>> GetInclusionProof(
        [FromQuery] string? index, [FromQuery] string? treeSize, AuditDb db, LedgerTree tree, GovernanceOptions governance, ClaimsPrincipal user,
        CancellationToken cancellationToken)
    {
        await tree.CatchUpAsync(db, cancellationToken);
        var current = tree.Tree.Size;
        var errors = new Dictionary<string, string[]>();
        var leaf = ParseIndex(index, "index", required: true, errors);
        var size = ParseIndex(treeSize, "treeSize", required: false, errors) ?? current;
        if (!errors.ContainsKey("treeSize") && (size < 1 || size > current))
        {
            errors["treeSize"] = [$"Must be from 1 to the current tree size ({current})."];
        }
        else if (leaf is { } l && l >= size)
        {
            errors["index"] = [$"Must be less than the tree size ({size})."];
        }
        if (errors.Count > 0)
        {
            return Invalid(errors);
        }

        var at = leaf!.Value;
        var leafHash = await db.Entries.AsNoTracking().Where(e => e.Index == at).VisibleTo(db, user, governance)
            .Select(e => e.LeafHash).FirstOrDefaultAsync(cancellationToken);
        if (leafHash is null)
        {
            return TypedResults.NotFound();
        }
        var path = tree.Tree.InclusionProof(at, size);
        return TypedResults.Ok(new InclusionProofDocument(
            at, size, Convert.ToBase64String(Convert.FromHexString(leafHash)), Base64(path)));
    }

    /// <summary>The proof that the tree of <c>from</c> leaves is a prefix of the tree of <c>to</c> leaves (default: the current size).</summary>
    public static async Task<Results<Ok<ConsistencyProofDocument>, ValidationProblem>> GetConsistencyProof(
        [FromQuery] string? from, [FromQuery] string? to, AuditDb db, LedgerTree tree, CancellationToken cancellationToken)
    {
        await tree.CatchUpAsync(db, cancellationToken);
        var current = tree.Tree.Size;
        var errors = new Dictionary<string, string[]>();
        var first = ParseIndex(from, "from", required: true, errors);
        var second = ParseIndex(to, "to", required: false, errors) ?? current;
        if (!errors.ContainsKey("to") && second > current)
        {
            errors["to"] = [$"Must be at most the current tree size ({current})."];
        }
        else if (first == 0)
        {
            errors["from"] = ["Must be at least 1: every tree extends the empty one."];
        }
        else if (first > second)
        {
            errors["from"] = [$"Must be at most to ({second})."];
        }
        if (errors.Count > 0)
        {
            return Invalid(errors);
        }

        return TypedResults.Ok(new ConsistencyProofDocument(first!.Value, second, Base64(tree.Tree.ConsistencyProof(first.Value, second))));
    }

    /// <summary>
    /// An evidence bundle (EVIDENCE-BUNDLE.md) of the entries with indexes <c>from</c> to <c>to</c>, both inclusive
    /// (default: every entry), against the current tree head signed now.
    /// </summary>
    public static async Task<Results<Ok<EvidenceBundle>, ValidationProblem, ProblemHttpResult>> Export(
        [FromQuery] string? from, [FromQuery] string? to, AuditDb db, LedgerTree tree, TreeHeadSigner signer, IKeyRing keys,
        GovernanceOptions governance, HttpContext http, CancellationToken cancellationToken)
    {
        if (!governance.IsCustodian(http.User))
        {
            // A bundle holds every entry of its range, whoever they concern: only the ledger's custodians export.
            return Problems.Status(StatusCodes.Status403Forbidden, "not-a-custodian",
                "Only the ledger's custodians may export it.", "Audit:Custodians names the organisations that may export the whole ledger.");
        }
        var (justification, invalid) = Justification.Read(http.Request, AuditApi.DefaultJustification);
        if (invalid is not null)
        {
            return invalid;
        }
        await tree.CatchUpAsync(db, cancellationToken);
        var size = tree.Tree.Size;
        var errors = new Dictionary<string, string[]>();
        var first = ParseIndex(from, "from", required: false, errors) ?? 0;
        var last = ParseIndex(to, "to", required: false, errors) ?? size - 1;
        if (!errors.ContainsKey("to") && to is not null && last >= size)
        {
            errors["to"] = [$"Must be a ledger index, less than the tree size ({size})."];
        }
        else if (!errors.ContainsKey("from") && from is not null && (first >= size || first > last))
        {
            errors["from"] = [$"Must be a ledger index at most to ({last})."];
        }
        if (errors.Count > 0)
        {
            return Invalid(errors);
        }

        var head = signer.Sign(size);
        var entries = (await db.Entries.AsNoTracking().Where(e => e.Index >= first && e.Index <= last).OrderBy(e => e.Index)
                .Select(e => new { e.Index, e.Canonical, e.LeafHash }).ToListAsync(cancellationToken))
            .Select(e => new BundleEntry(e.Index, e.Canonical, Convert.ToBase64String(Convert.FromHexString(e.LeafHash))))
            .ToList();
        var complete = first == 0 && last == size - 1;
        var inclusion = complete
            ? null
            : entries.Where(e => e.Index < size)
                .Select(e => new InclusionProofDocument(e.Index, size, e.LeafHash, Base64(tree.Tree.InclusionProof(e.Index, size))))
                .ToList();
        var stored = (await TreeHeadSigner.StoredAsync(db, cancellationToken)).Select(TreeHeadDocument.From).ToList();
        var consistency = stored.Where(h => h.TreeSize > 0 && h.TreeSize <= size).Select(h => h.TreeSize).Distinct()
            .Select(s => new ConsistencyProofDocument(s, size, Base64(tree.Tree.ConsistencyProof(s, size))))
            .ToList();
        // The export shows every entry in it: a consultation, recorded (after the bundle was cut) before it is answered.
        await AuditConsultations.RecordAsync(http, "audit-export", justification!, new Dictionary<string, object?>
        {
            ["from"] = first,
            ["to"] = last,
            ["treeSize"] = size,
            ["resultCount"] = entries.Count,
        }, cancellationToken);
        using var jwks = JsonDocument.Parse(keys.PublicJwks());
        return TypedResults.Ok(new EvidenceBundle(
            EvidenceBundle.CurrentFormat, entries, TreeHeadDocument.From(head), stored, inclusion, consistency, jwks.RootElement.Clone()));
    }

    /// <summary>The audit key ring's public keys, current and retired: what verifies tree heads.</summary>
    public static IEndpointConventionBuilder MapJwksApi(this IEndpointRouteBuilder app) =>
        app.MapGet("/.well-known/jwks.json", (IKeyRing keys) => TypedResults.Text(keys.PublicJwks(), "application/jwk-set+json"))
            .AllowAnonymous();

    private static List<string> Base64(IReadOnlyList<byte[]> hashes) => [.. hashes.Select(Convert.ToBase64String)];

    private static long? ParseIndex(string? value, string field, bool required, Dictionary<string, string[]> errors)
    {
        if (value is null)
        {
            if (required)
            {
                errors[field] = ["Required."];
            }
            return null;
        }
        if (long.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var number))
        {
            return number;
        }
        errors[field] = ["Must be a whole number."];
        return null;
    }

    private static ValidationProblem Invalid(Dictionary<string, string[]> errors) =>
        Problems.Validation(errors);
}
