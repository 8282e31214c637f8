using System.Globalization;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.EntityFrameworkCore;
using TOEX.Sharing.Audit.Data;
using TOEX.Sharing.Contracts;
using TOEX.Sharing.ServiceDefaults;

namespace TOEX.Sharing.Audit.Apis;

public sealed record EntryView(
    long Index, string Type, DateTimeOffset At, string Actor, string Justification, IReadOnlyList<string> Recipients,
    Guid? PackageId, string? Originator, string? Partner, string? Agreement, string? Outcome, string LeafHash);

public sealed record EntryPage(IReadOnlyList<EntryView> Items, long? Next);

public static class AuditApi
{
    public const int DefaultLimit = 100;
    public const int MaxLimit = 1000;

    public static RouteGroupBuilder MapAuditApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api/v1/audit").RequireAuthorization(Roles.AuditRead);
        api.MapGet("/entries", GetEntries);
        api.MapGet("/tree-head", LedgerApi.GetTreeHead);
        api.MapGet("/proofs/inclusion", LedgerApi.GetInclusionProof);
        api.MapGet("/proofs/consistency", LedgerApi.GetConsistencyProof);
        api.MapGet("/export", LedgerApi.Export);
        return api;
    }

    /// <summary>Entries in ledger order, filtered, paged by index (<c>after</c> is the last index seen).</summary>
    public static async Task<Results<Ok<EntryPage>, ValidationProblem>> GetEntries(
        [AsParameters] EntryQuery query, AuditDb db, CancellationToken cancellationToken)
    {
        var errors = new Dictionary<string, string[]>();
        var from = ParseInstant(query.From, "from", errors);
        var to = ParseInstant(query.To, "to", errors);
        Guid? package = null;
        if (query.Package is not null)
        {
            if (Guid.TryParse(query.Package, out var id))
            {
                package = id;
            }
            else
            {
                errors["package"] = ["Must be a package id."];
            }
        }
        long after = -1;
        if (query.After is not null && (!long.TryParse(query.After, NumberStyles.None, CultureInfo.InvariantCulture, out after)))
        {
            errors["after"] = ["Must be a ledger index."];
        }
        var limit = DefaultLimit;
        if (query.Limit is not null && (!int.TryParse(query.Limit, NumberStyles.None, CultureInfo.InvariantCulture, out limit) || limit < 1 || limit > MaxLimit))
        {
            errors["limit"] = [$"Must be a whole number from 1 to {MaxLimit}."];
        }
        if (query.Outcome is not null && query.Outcome is not ("permit" or "refer" or "deny"))
        {
            errors["outcome"] = ["Must be permit, refer or deny."];
        }
        if (errors.Count > 0)
        {
            return Problems.Validation(errors);
        }

        var entries = db.Entries.AsNoTracking().Where(e => e.Index > after);
        if (package is { } p)
        {
            entries = entries.Where(e => e.PackageId == p);
        }
        if (query.Partner is { } partner)
        {
            entries = entries.Where(e => e.Partner == partner);
        }
        if (query.Agreement is { } agreement)
        {
            entries = entries.Where(e => e.Agreement == agreement);
        }
        if (query.Originator is { } originator)
        {
            entries = entries.Where(e => e.Originator == originator);
        }
        if (query.Outcome is { } outcome)
        {
            entries = entries.Where(e => e.Outcome == outcome);
        }
        if (from is { } f)
        {
            var ms = f.ToUnixTimeMilliseconds();
            entries = entries.Where(e => e.AtUnixMs >= ms);
        }
        if (to is { } t)
        {
            var ms = t.ToUnixTimeMilliseconds();
            entries = entries.Where(e => e.AtUnixMs <= ms);
        }

        var page = await entries.OrderBy(e => e.Index).Take(limit + 1).ToListAsync(cancellationToken);
        var more = page.Count > limit;
        if (more)
        {
            page.RemoveAt(page.Count - 1);
        }
        var items = page.Select(e => new EntryView(
            e.Index, e.Type, DateTimeOffset.FromUnixTimeMilliseconds(e.AtUnixMs), e.Actor, e.Justification,
            ToexJson.Deserialize<List<string>>(e.RecipientsJson), e.PackageId, e.Originator, e.Partner, e.Agreement,
            e.Outcome, e.LeafHash)).ToList();
        return TypedResults.Ok(new EntryPage(items, more ? items[^1].Index : null));
    }

    private static DateTimeOffset? ParseInstant(string? value, string field, Dictionary<string, string[]> errors)
    {
        if (value is null)
        {
            return null;
        }
        if (DateTimeOffset.TryParse(value, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var instant))
        {
            return instant;
        }
        errors[field] = ["Malformed instant: expected ISO-8601, e.g. 2026-11-25T12:00:00Z."];
        return null;
    }
}

public sealed record EntryQuery(
    [FromQuery] string? Package, [FromQuery] string? Partner, [FromQuery] string? Agreement, [FromQuery] string? Originator,
    [FromQuery] string? Outcome, [FromQuery] string? From, [FromQuery] string? To, [FromQuery] string? After,
    [FromQuery] string? Limit);
