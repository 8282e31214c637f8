using System.Globalization;
using System.Security.Claims;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Microsoft.Net.Http.Headers;
using TOEX.Sharing.Audit.Data;
using TOEX.Sharing.Audit.Ledger;
using TOEX.Sharing.Contracts;
using TOEX.Sharing.Sealing;
using TOEX.Sharing.ServiceDefaults;

namespace TOEX.Sharing.Audit.Apis;

/// <summary>One entry as the audit API shows it; <c>reference</c> is the originator's reference of the package, when there is one.</summary>
public sealed record EntryView(
    long Index, string Type, DateTimeOffset At, string Actor, string Justification, IReadOnlyList<string> Recipients,
    Guid? PackageId, string? Reference, string? Originator, string? Partner, string? Agreement, string? Outcome, string LeafHash);

public sealed record EntryPage(IReadOnlyList<EntryView> Items, long? Next);

/// <summary>
/// Searches of the ledger (API.md): by package, partner, agreement, originator, outcome, type, period and subject,
/// in ledger order, paged by index, as JSON or CSV. Each search is itself a consultation of personal data and is
/// recorded in the ledger (s62) before it is answered.
/// </summary>
public static class AuditApi
{
    public const int DefaultLimit = 100;
    public const int MaxLimit = 1000;
    public const int MaxNameLength = 200;
    public const string CsvMediaType = "text/csv";
    public const string DefaultJustification = "An audit search by an Audit.Read holder; no justification given.";

    public static RouteGroupBuilder MapAuditApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api/v1/audit").RequireAuthorization(Roles.AuditRead).RefuseUnknownQueryParameters();
        api.MapGet("/entries", GetEntries).Produces<EntryPage>().Produces<string>(contentType: CsvMediaType).ProducesValidationProblem();
        api.MapGet("/entries.csv", GetEntriesCsv).Produces<string>(contentType: CsvMediaType).ProducesValidationProblem();
        api.MapGet("/subjects", GetSubjects).Produces<EntryPage>().Produces<string>(contentType: CsvMediaType).ProducesValidationProblem();
        api.MapGet("/subjects.csv", GetSubjectsCsv).Produces<string>(contentType: CsvMediaType).ProducesValidationProblem();
        api.MapGet("/tree-head", LedgerApi.GetTreeHead);
        api.MapGet("/proofs/inclusion", LedgerApi.GetInclusionProof);
        api.MapGet("/proofs/consistency", LedgerApi.GetConsistencyProof);
        api.MapGet("/export", LedgerApi.Export);
        return api;
    }

    /// <summary>Entries in ledger order, filtered, paged by index (<c>after</c> is the last index seen); CSV with <c>format=csv</c> or <c>Accept: text/csv</c>.</summary>
    public static Task<IResult> GetEntries([AsParameters] EntryQuery query, HttpContext http, CancellationToken cancellationToken) =>
        SearchAsync(query, http, subjectRequired: false, csv: WantsCsv(query, http), cancellationToken);

    public static Task<IResult> GetEntriesCsv([AsParameters] EntryQuery query, HttpContext http, CancellationToken cancellationToken) =>
        SearchAsync(query, http, subjectRequired: false, csv: true, cancellationToken);

    /// <summary>Every entry about the packages whose subjects match <c>name</c> (with <c>dateOfBirth</c>) or <c>pnc</c>.</summary>
    public static Task<IResult> GetSubjects([AsParameters] EntryQuery query, HttpContext http, CancellationToken cancellationToken) =>
        SearchAsync(query, http, subjectRequired: true, csv: WantsCsv(query, http), cancellationToken);

    public static Task<IResult> GetSubjectsCsv([AsParameters] EntryQuery query, HttpContext http, CancellationToken cancellationToken) =>
        SearchAsync(query, http, subjectRequired: true, csv: true, cancellationToken);

    private static bool WantsCsv(EntryQuery query, HttpContext http) =>
        query.Format == "csv" || (query.Format is null && http.Request.GetTypedHeaders().Accept
            .Any(a => a.MediaType.Equals(CsvMediaType, StringComparison.OrdinalIgnoreCase)));

    private static async Task<IResult> SearchAsync(EntryQuery query, HttpContext http, bool subjectRequired, bool csv, CancellationToken cancellationToken)
    {
        var services = http.RequestServices;
        var (filter, errors) = EntryFilter.Parse(query, services.GetRequiredService<SubjectBlindIndex>(), subjectRequired);
        var (justification, invalid) = Justification.Read(http.Request, DefaultJustification);
        if (invalid is not null)
        {
            return invalid;
        }
        if (errors.Count > 0)
        {
            return Problems.Validation(errors);
        }

        var db = services.GetRequiredService<AuditDb>();
        var scope = services.GetRequiredService<Governance>();
        var page = await filter!.Apply(db).VisibleTo(db, http.User, scope).OrderBy(e => e.Index).Take(filter.Limit + 1).ToListAsync(cancellationToken);
        var more = page.Count > filter.Limit;
        if (more)
        {
            page.RemoveAt(page.Count - 1);
        }
        var items = page.Select(e => new EntryView(
            e.Index, e.Type, DateTimeOffset.FromUnixTimeMilliseconds(e.AtUnixMs), e.Actor, e.Justification,
            ToexJson.Deserialize<List<string>>(e.RecipientsJson), e.PackageId, e.Reference, e.Originator, e.Partner, e.Agreement,
            e.Outcome, e.LeafHash)).ToList();
        long? next = more ? items[^1].Index : null;

        await AuditConsultations.RecordAsync(http, subjectRequired ? "audit-subject-search" : "audit-search", justification!,
            new Dictionary<string, object?>
            {
                ["format"] = csv ? "csv" : "json",
                ["filter"] = filter.Describe(),
                ["resultCount"] = items.Count,
                ["firstIndex"] = items.Count > 0 ? items[0].Index : null,
                ["lastIndex"] = items.Count > 0 ? items[^1].Index : null,
            }, cancellationToken);

        if (!csv)
        {
            return TypedResults.Ok(new EntryPage(items, next));
        }
        if (next is { } after)
        {
            var nextQuery = http.Request.Query.Where(q => q.Key != "after")
                .Select(q => $"{Uri.EscapeDataString(q.Key)}={Uri.EscapeDataString(q.Value.ToString())}")
                .Append($"after={after.ToString(CultureInfo.InvariantCulture)}");
            http.Response.Headers.Link = $"<{http.Request.Path}?{string.Join('&', nextQuery)}>; rel=\"next\"";
        }
        return TypedResults.Text(EntriesCsv.Write(items), $"{CsvMediaType}; charset=utf-8; header=present");
    }
}

public sealed record EntryQuery(
    [FromQuery] string? Package, [FromQuery] string? Partner, [FromQuery] string? Agreement, [FromQuery] string? Originator,
    [FromQuery] string? Outcome, [FromQuery] string? Type, [FromQuery] string? From, [FromQuery] string? To,
    [FromQuery] string? After, [FromQuery] string? Limit, [FromQuery] string? Name, [FromQuery] string? DateOfBirth,
    [FromQuery] string? Pnc, [FromQuery] string? Format, [FromQuery] string? Reference);

/// <summary>A validated search of the ledger. Subjects are held only as their blind indexes.</summary>
public sealed record EntryFilter
{
    public Guid? Package { get; init; }
    public string? Reference { get; init; }
    public string? Partner { get; init; }
    public string? Agreement { get; init; }
    public string? Originator { get; init; }
    public string? Outcome { get; init; }
    public string? Type { get; init; }
    public DateTimeOffset? From { get; init; }
    public DateTimeOffset? To { get; init; }
    public long After { get; init; } = -1;
    public int Limit { get; init; } = AuditApi.DefaultLimit;
    public IReadOnlyList<string> Subjects { get; init; } = [];

    /// <summary>Whether the filter selects anything short of every entry (paging aside).</summary>
    public bool Selects => Package is not null || Partner is not null || Agreement is not null || Originator is not null
        || Outcome is not null || Type is not null || From is not null || To is not null || Subjects.Count > 0;

    public static (EntryFilter? Filter, Dictionary<string, string[]> Errors) Parse(EntryQuery query, SubjectBlindIndex blindIndex, bool subjectRequired)
    {
        var errors = new Dictionary<string, string[]>();
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
        if (query.After is not null && !long.TryParse(query.After, NumberStyles.None, CultureInfo.InvariantCulture, out after))
        {
            errors["after"] = ["Must be a ledger index."];
        }
        var limit = AuditApi.DefaultLimit;
        if (query.Limit is not null && (!int.TryParse(query.Limit, NumberStyles.None, CultureInfo.InvariantCulture, out limit) || limit < 1 || limit > AuditApi.MaxLimit))
        {
            errors["limit"] = [$"Must be a whole number from 1 to {AuditApi.MaxLimit}."];
        }
        if (query.Reference is { Length: 0 or > AuditApi.MaxNameLength })
        {
            errors["reference"] = [$"Must be the originator's reference of a package, 1 to {AuditApi.MaxNameLength} characters."];
        }
        if (query.Outcome is not null && query.Outcome is not ("permit" or "refer" or "deny"))
        {
            errors["outcome"] = ["Must be permit, refer or deny."];
        }
        if (query.Format is not null && query.Format is not ("json" or "csv"))
        {
            errors["format"] = ["Must be json or csv."];
        }
        var filter = new EntryFilter
        {
            Package = package,
            Reference = query.Reference,
            Partner = query.Partner,
            Agreement = query.Agreement,
            Originator = query.Originator,
            Outcome = query.Outcome,
            Type = query.Type,
            From = ParseInstant(query.From, "from", errors),
            To = ParseInstant(query.To, "to", errors),
            After = after,
            Limit = limit,
            Subjects = ParseSubject(query, blindIndex, subjectRequired, errors),
        };
        return (errors.Count == 0 ? filter : null, errors);
    }

    /// <summary>The subject's blind indexes: name with date of birth, or name alone, and the PNC ID; any matches.</summary>
    private static List<string> ParseSubject(EntryQuery query, SubjectBlindIndex blindIndex, bool required, Dictionary<string, string[]> errors)
    {
        var indexes = new List<string>();
        DateOnly? born = null;
        if (query.DateOfBirth is not null)
        {
            if (DateOnly.TryParseExact(query.DateOfBirth, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var date))
            {
                born = date;
            }
            else
            {
                errors["dateOfBirth"] = ["Must be a date, yyyy-MM-dd."];
            }
            if (query.Name is null)
            {
                errors["dateOfBirth"] = ["Give name with dateOfBirth."];
            }
        }
        if (query.Name is not null)
        {
            if (query.Name.Length > AuditApi.MaxNameLength || SubjectNormaliser.Name(query.Name).Length == 0)
            {
                errors["name"] = [$"Must hold a letter or digit, at most {AuditApi.MaxNameLength} characters."];
            }
            else if (born is { } b)
            {
                indexes.Add(blindIndex.NameAndDateOfBirth(query.Name, b));
            }
            else if (query.DateOfBirth is null)
            {
                indexes.Add(blindIndex.Name(query.Name));
            }
        }
        if (query.Pnc is not null)
        {
            if (query.Pnc.Length <= 40 && blindIndex.Pnc(query.Pnc) is { } pnc)
            {
                indexes.Add(pnc);
            }
            else
            {
                errors["pnc"] = ["Must be a PNC ID: year/serial and check letter, e.g. 10/123456X or 2010/0123456X."];
            }
        }
        if (required && query.Name is null && query.Pnc is null && query.DateOfBirth is null)
        {
            errors["name"] = ["Give the subject's name (with dateOfBirth when known), or pnc."];
        }
        return indexes;
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

    public IQueryable<LedgerEntry> Apply(AuditDb db)
    {
        var after = After;
        var entries = db.Entries.AsNoTracking().Where(e => e.Index > after);
        if (Package is { } p)
        {
            entries = entries.Where(e => e.PackageId == p);
        }
        if (Reference is { } reference)
        {
            entries = entries.Where(e => e.Reference == reference);
        }
        if (Partner is { } partner)
        {
            entries = entries.Where(e => e.Partner == partner);
        }
        if (Agreement is { } agreement)
        {
            entries = entries.Where(e => e.Agreement == agreement);
        }
        if (Originator is { } originator)
        {
            entries = entries.Where(e => e.Originator == originator);
        }
        if (Outcome is { } outcome)
        {
            entries = entries.Where(e => e.Outcome == outcome);
        }
        if (Type is { } type)
        {
            entries = entries.Where(e => e.Type == type);
        }
        if (From is { } f)
        {
            var ms = f.ToUnixTimeMilliseconds();
            entries = entries.Where(e => e.AtUnixMs >= ms);
        }
        if (To is { } t)
        {
            var ms = t.ToUnixTimeMilliseconds();
            entries = entries.Where(e => e.AtUnixMs <= ms);
        }
        if (Subjects.Count > 0)
        {
            var subjects = Subjects.ToList();
            var packages = db.SubjectIndexes.Where(s => subjects.Contains(s.BlindIndex)).Select(s => (Guid?)s.PackageId);
            entries = entries.Where(e => packages.Contains(e.PackageId));
        }
        return entries;
    }

    /// <summary>The filter as recorded in the ledger: no name, date of birth or PNC, only their blind indexes.</summary>
    public IReadOnlyDictionary<string, object?> Describe() => new Dictionary<string, object?>
    {
        ["package"] = Package,
        ["reference"] = Reference,
        ["partner"] = Partner,
        ["agreement"] = Agreement,
        ["originator"] = Originator,
        ["outcome"] = Outcome,
        ["type"] = Type,
        ["from"] = From,
        ["to"] = To,
        ["after"] = After,
        ["limit"] = Limit,
        ["subjects"] = Subjects,
    };
}

/// <summary>Consultations at the audit service itself (searches, exports): appended to the ledger before the answer.</summary>
public static class AuditConsultations
{
    public static Task RecordAsync(HttpContext http, string kind, string justification, IReadOnlyDictionary<string, object?> detail,
        CancellationToken cancellationToken)
    {
        var services = http.RequestServices;
        var user = http.User;
        return services.GetRequiredService<LedgerWriter>().AppendAsync(services.GetRequiredService<AuditDb>(), [new LedgerRecord
        {
            EventKey = $"{Consumers.EventPublishers.Audit}/consultation/{MassTransit.NewId.NextGuid():N}",
            Type = "consultation",
            At = services.GetRequiredService<TimeProvider>().GetUtcNow(),
            Actor = user.Actor(),
            Justification = justification,
            Recipients = [user.Organisation()],
            Detail = new Dictionary<string, object?>(detail) { ["kind"] = kind, ["route"] = http.Request.Path.Value },
        }], cancellationToken);
    }
}

/// <summary>
/// Entries as RFC 4180 CSV (CRLF line ends, every field quoted, quotes doubled), safe to open in a spreadsheet:
/// a field that starts with <c>= + - @</c>, a tab or a carriage return is prefixed with an apostrophe, so it is
/// shown as text and never run as a formula.
/// </summary>
public static class EntriesCsv
{
    public static readonly string[] Columns =
        ["index", "type", "at", "actor", "justification", "recipients", "packageId", "reference", "originator", "partner", "agreement", "outcome", "leafHash"];

    public static string Write(IEnumerable<EntryView> entries)
    {
        var csv = new System.Text.StringBuilder();
        Line(csv, Columns);
        foreach (var e in entries)
        {
            Line(csv,
            [
                e.Index.ToString(CultureInfo.InvariantCulture), e.Type, e.At.ToString("O", CultureInfo.InvariantCulture), e.Actor, e.Justification,
                string.Join(' ', e.Recipients), e.PackageId?.ToString() ?? "", e.Reference ?? "", e.Originator ?? "", e.Partner ?? "", e.Agreement ?? "",
                e.Outcome ?? "", e.LeafHash,
            ]);
        }
        return csv.ToString();
    }

    public static string Field(string value)
    {
        var safe = value.Length > 0 && value[0] is '=' or '+' or '-' or '@' or '\t' or '\r' ? "'" + value : value;
        return "\"" + safe.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"";
    }

    private static void Line(System.Text.StringBuilder csv, IEnumerable<string> fields) =>
        csv.Append(string.Join(',', fields.Select(Field))).Append("\r\n");
}
