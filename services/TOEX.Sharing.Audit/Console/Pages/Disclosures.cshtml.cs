using System.Globalization;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using TOEX.Sharing.Audit.Agreements;
using TOEX.Sharing.Audit.Apis;
using TOEX.Sharing.Policy;
using TOEX.Sharing.ServiceDefaults;

namespace TOEX.Sharing.Audit.Console.Pages;

/// <summary>The search form's fields (GET), as the officer typed them.</summary>
public sealed class DisclosureSearch
{
    public string? Partner { get; set; }
    public string? Agreement { get; set; }
    public string? Originator { get; set; }
    public string? Outcome { get; set; }
    public string? Type { get; set; }
    public string? From { get; set; }
    public string? To { get; set; }
    public string? Name { get; set; }
    public string? DateOfBirth { get; set; }
    public string? Pnc { get; set; }
    public string? After { get; set; }
    public string? Justification { get; set; }

    /// <summary>The entries route's query: a day's period from its first to its last millisecond (UTC).</summary>
    public EntryQuery ToQuery() => new(
        Package: null, Blank(Partner), Blank(Agreement), Blank(Originator), Blank(Outcome), Blank(Type),
        Day(From, "T00:00:00Z"), Day(To, "T23:59:59.999Z"), Blank(After), ConsoleLedger.PageSize.ToString(CultureInfo.InvariantCulture),
        Blank(Name), Blank(DateOfBirth), Blank(Pnc), Format: null, Reference: null);

    public bool BySubject => Blank(Name) is not null || Blank(Pnc) is not null;

    private static string? Blank(string? value) => string.IsNullOrWhiteSpace(value) ? null : value.Trim();

    private static string? Day(string? value, string time) =>
        Blank(value) is { } day && DateOnly.TryParseExact(day, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out _) ? day + time : Blank(value);
}

[Authorize(Policy = $"{ConsoleAuthentication.Policy}:{Roles.AuditRead}")]
public sealed class DisclosuresModel(ConsoleLedger ledger, AgreementRegister register) : ConsolePageModel
{
    public static readonly IReadOnlyList<string> EntryTypes =
    [
        "submission", "decision", "release", "referral-approved", "referral-rejected", "decision-rejected", "recall", "recall-notice",
        "webhook-delivered", "webhook-attempt-failed", "webhook-dead-lettered", "acknowledgement", "acknowledgement-overdue", "consultation",
    ];

    [BindProperty(SupportsGet = true)]
    public DisclosureSearch Search { get; set; } = new();

    /// <summary>The partners the form offers: the officer's organisation and its agreements' other parties.</summary>
    public IReadOnlyList<Partner> Partners => register.PartnersOf(User);

    /// <summary>The agreements the form offers: those the officer's organisation is a party to.</summary>
    public IReadOnlyList<Agreement> Agreements => register.AgreementsOf(User);

    public IReadOnlyList<ConsoleEntry> Items { get; private set; } = [];

    public long? Next { get; private set; }

    /// <summary>The packages' references (what officers know them by), where an entry the officer may read gives it.</summary>
    public IReadOnlyDictionary<Guid, string> References { get; private set; } = new Dictionary<Guid, string>();

    public Dictionary<string, string[]> Errors { get; private set; } = [];

    public string? JustificationError { get; private set; }

    public async Task<IActionResult> OnGetAsync()
    {
        var (given, invalid) = Validate(Search.Justification);
        JustificationError = invalid;
        var justification = given ?? SessionJustification;
        if (justification is null && invalid is null)
        {
            return AskJustification();
        }
        if (invalid is not null)
        {
            return Page();
        }
        var (filter, errors, items, next) = await ledger.SearchAsync(User, Search.ToQuery(), HttpContext.RequestAborted);
        Errors = errors;
        if (filter is null)
        {
            return Page();
        }
        await RecordAsync(Search.BySubject ? "console-subject-search" : "console-search", justification!, new Dictionary<string, object?>
        {
            ["filter"] = filter.Describe(),
            ["resultCount"] = items.Count,
            ["firstIndex"] = items.Count > 0 ? items[0].Index : null,
            ["lastIndex"] = items.Count > 0 ? items[^1].Index : null,
        });
        if (given is not null && SessionJustification is null)
        {
            await KeepJustificationAsync(given);
        }
        Items = items;
        Next = next;
        References = await ledger.ReferencesAsync(User, items.Where(e => e.PackageId is not null).Select(e => e.PackageId!.Value), HttpContext.RequestAborted);
        return Page();
    }

    /// <summary>This search's address with <c>after</c> set: the next page.</summary>
    public string NextPage(long after)
    {
        var query = Request.Query.Where(q => q.Key is not ("after" or "justification"))
            .Select(q => $"{Uri.EscapeDataString(q.Key)}={Uri.EscapeDataString(q.Value.ToString())}")
            .Append($"after={after.ToString(CultureInfo.InvariantCulture)}");
        return "/disclosures?" + string.Join('&', query);
    }

    /// <summary>The form field a problem of the entries' filter names.</summary>
    public static string FieldId(string field) => field switch
    {
        "from" => "from",
        "to" => "to",
        "dateOfBirth" => "dateOfBirth",
        _ => field,
    };
}
