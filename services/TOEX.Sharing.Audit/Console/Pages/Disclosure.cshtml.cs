using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using TOEX.Sharing.ServiceDefaults;

namespace TOEX.Sharing.Audit.Console.Pages;

/// <summary>
/// One package's disclosure: what each recipient received and what was withheld, the decision's reasons and clauses,
/// the lawful basis and gateway, the policy version, delivery and acknowledgement, any recall, and every entry's
/// inclusion proof checked against the tree head signed now. Nothing (404) for a package the officer may not read.
/// </summary>
[Authorize(Policy = $"{ConsoleAuthentication.Policy}:{Roles.AuditRead}")]
public sealed class DisclosureModel(ConsoleLedger ledger) : ConsolePageModel
{
    public ConsoleLedger Ledger => ledger;

    public Disclosure Disclosure { get; private set; } = null!;

    public CheckedHead Head { get; private set; } = null!;

    public IReadOnlyDictionary<long, InclusionCheck> Inclusion { get; private set; } = new Dictionary<long, InclusionCheck>();

    public async Task<IActionResult> OnGetAsync(Guid id)
    {
        var justification = SessionJustification;
        if (justification is null)
        {
            return AskJustification();
        }
        var entries = await ledger.PackageAsync(User, id, HttpContext.RequestAborted);
        if (entries.Count == 0)
        {
            return NotFound();
        }
        Disclosure = new Disclosure(id, entries);
        Head = await ledger.HeadAsync(HttpContext.RequestAborted);
        Inclusion = ledger.Inclusion(entries, Head).ToDictionary(c => c.Index);
        await RecordAsync("console-disclosure", justification, new Dictionary<string, object?>
        {
            ["package"] = id,
            ["resultCount"] = entries.Count,
            ["firstIndex"] = entries[0].Index,
            ["lastIndex"] = entries[^1].Index,
        });
        return Page();
    }
}
