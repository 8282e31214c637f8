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
        [FromQuery] string? index, [FromQuery] string? treeSize, AuditDb db, LedgerTree tree, Governance governance, ClaimsPrincipal user,
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
    /// An evidence bundle (EVIDENCE-BUNDLE.md) of the entries the filters select (the entries' own: package, partner,
    /// agreement, originator, outcome, type, subject, and a period), against the current tree head signed now.
    /// <c>from</c> and <c>to</c> are ledger indexes (whole numbers, both inclusive) or instants (ISO-8601, the period);
    /// with neither and no filter, every entry.
    /// </summary>
    public static async Task<Results<Ok<EvidenceBundle>, ValidationProblem, ProblemHttpResult>> Export(
        [AsParameters] ExportQuery query, AuditDb db, LedgerTree tree, TreeHeadSigner signer, IKeyRing keys, SubjectBlindIndex blindIndex,
        Governance governance, HttpContext http, CancellationToken cancellationToken)
    {
        if (!governance.IsCustodian(http.User))
        {
            // A bundle holds each selected entry's whole canonical record, whoever else it names: only the ledger's custodians export.
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
        var byIndex = IsIndex(query.From) || IsIndex(query.To);
        var (filter, filterErrors) = EntryFilter.Parse(query.ToEntryQuery(byIndex), blindIndex, subjectRequired: false);
        foreach (var (field, messages) in filterErrors)
        {
            errors[field] = messages;
        }
        // Without a 'to', to the end of the ledger as the bundle is cut (entries appended since the check above included,
        // with the head they are signed under): a whole-ledger export is always whole against its own tree head.
        long first = 0, last = long.MaxValue;
        if (byIndex)
        {
            first = ParseIndex(query.From, "from", required: false, errors) ?? 0;
            last = ParseIndex(query.To, "to", required: false, errors) ?? long.MaxValue;
            if (!errors.ContainsKey("to") && query.To is not null && last >= size)
            {
                errors["to"] = [$"Must be a ledger index, less than the tree size ({size})."];
            }
            else if (!errors.ContainsKey("from") && query.From is not null && (first >= size || first > last))
            {
                errors["from"] = [$"Must be a ledger index at most to ({Math.Min(last, size - 1)})."];
            }
        }
        if (errors.Count > 0)
        {
            return Invalid(errors);
        }

        var bundle = await BundleAsync(db, tree, signer, keys, filter!, first, last, http.User, governance, cancellationToken);
        // The export shows every entry in it: a consultation, recorded (after the bundle was cut) before it is answered.
        await AuditConsultations.RecordAsync(http, "audit-export", justification!, new Dictionary<string, object?>
        {
            ["from"] = first,
            ["to"] = Math.Min(last, bundle.TreeHead.TreeSize - 1),
            ["filter"] = filter!.Describe(),
            ["treeSize"] = bundle.TreeHead.TreeSize,
            ["resultCount"] = bundle.Entries.Count,
        }, cancellationToken);
        return TypedResults.Ok(bundle);
    }

    /// <summary>
    /// The bundle of the entries <paramref name="filter"/> selects with indexes <paramref name="first"/> to <paramref name="last"/>
    /// (what <paramref name="user"/> may read), against the current head signed now. A selection that is not the whole ledger
    /// carries an inclusion proof per entry and, when filtered, the selection it was cut by (subjects as blind indexes).
    /// </summary>
    public static async Task<EvidenceBundle> BundleAsync(AuditDb db, LedgerTree tree, TreeHeadSigner signer, IKeyRing keys, EntryFilter filter,
        long first, long last, System.Security.Claims.ClaimsPrincipal user, Governance governance, CancellationToken cancellationToken)
    {
        await tree.CatchUpAsync(db, cancellationToken);
        var size = tree.Tree.Size;
        last = Math.Min(last, size - 1);
        var head = signer.Sign(size);
        var entries = (await filter.Apply(db).VisibleTo(db, user, governance).Where(e => e.Index >= first && e.Index <= last).OrderBy(e => e.Index)
                .Select(e => new { e.Index, e.Canonical, e.LeafHash }).ToListAsync(cancellationToken))
            .Select(e => new BundleEntry(e.Index, e.Canonical, Convert.ToBase64String(Convert.FromHexString(e.LeafHash))))
            .ToList();
        var filtered = filter.Selects;
        var complete = !filtered && first == 0 && last == size - 1 && governance.IsCustodian(user);
        var inclusion = complete
            ? null
            : entries.Select(e => new InclusionProofDocument(e.Index, size, e.LeafHash, Base64(tree.Tree.InclusionProof(e.Index, size)))).ToList();
        var stored = (await TreeHeadSigner.StoredAsync(db, cancellationToken)).Select(TreeHeadDocument.From).ToList();
        var consistency = stored.Where(h => h.TreeSize > 0 && h.TreeSize <= size).Select(h => h.TreeSize).Distinct()
            .Select(s => new ConsistencyProofDocument(s, size, Base64(tree.Tree.ConsistencyProof(s, size))))
            .ToList();
        using var jwks = JsonDocument.Parse(keys.PublicJwks());
        return new EvidenceBundle(EvidenceBundle.CurrentFormat, entries, TreeHeadDocument.From(head), stored, inclusion, consistency, jwks.RootElement.Clone())
        {
            Selection = filtered ? JsonSerializer.SerializeToElement(filter.Describe(), Contracts.ToexJson.Options) : null,
        };
    }

    private static bool IsIndex(string? value) => value is not null && long.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out _);

    /// <summary>The audit key ring's public keys, current and retired: what verifies tree heads.</summary>
    public static IEndpointConventionBuilder MapJwksApi(this IEndpointRouteBuilder app) =>
        app.MapGet("/.well-known/jwks.json", (IKeyRing keys) => TypedResults.Text(keys.PublicJwks(), JsonWebKeySetDocument.MediaType))
            .AllowAnonymous().Produces<JsonWebKeySetDocument>(contentType: JsonWebKeySetDocument.MediaType);

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

/// <summary>
/// The filters of an evidence export: those of the entries (API.md), where <c>from</c> and <c>to</c> are ledger indexes
/// when whole numbers (the bundle's range, as before) and otherwise instants (the period, as for the entries).
/// </summary>
public sealed record ExportQuery(
    [FromQuery] string? Package, [FromQuery] string? Partner, [FromQuery] string? Agreement, [FromQuery] string? Originator,
    [FromQuery] string? Outcome, [FromQuery] string? Type, [FromQuery] string? From, [FromQuery] string? To,
    [FromQuery] string? Name, [FromQuery] string? DateOfBirth, [FromQuery] string? Pnc, [FromQuery] string? Reference)
{
    public EntryQuery ToEntryQuery(bool byIndex) => new(
        Package, Partner, Agreement, Originator, Outcome, Type, byIndex ? null : From, byIndex ? null : To,
        After: null, Limit: null, Name, DateOfBirth, Pnc, Format: null, Reference);
}
