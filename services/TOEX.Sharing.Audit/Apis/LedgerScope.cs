using System.Security.Claims;
using TOEX.Sharing.Audit.Data;
using TOEX.Sharing.ServiceDefaults;

namespace TOEX.Sharing.Audit.Apis;

/// <summary>
/// Which ledger entries a caller may read: nothing about a disclosure that is not its organisation's business.
/// The ledger's custodians (<c>Audit:Custodians</c>: the organisations that answer for the whole ledger, e.g. to the
/// ICO) read every entry. Every other organisation with <c>Audit.Read</c> reads:
/// <list type="bullet">
/// <item>every entry about a package it originated (its submission entry names it the originator);</item>
/// <item>of a package it received (see <see cref="DeliveredCopy"/>), only the entries of its own copy: its release,
/// the copy's pushes and acknowledgement, and its recall notice, each naming no recipient but itself;</item>
/// <item>its own consultations.</item>
/// </list>
/// Never anything of a package it was denied, was referred for and not yet approved, had withdrawn before it received
/// it, or was not a recipient of: not its decision, not the submission (which names every recipient), not the recall
/// (which names who else was notified). Subject searches, CSV and every other route read through this one scope.
/// </summary>
public static class LedgerScope
{
    /// <summary>The entries that make up a recipient's own copy of a package it received.</summary>
    public static readonly IReadOnlyList<string> CopyEntryTypes =
    [
        "release", "recall-notice", "webhook-delivered", "webhook-attempt-failed", "webhook-dead-lettered", "webhook-retry",
        "webhook-endpoint-disabled", "acknowledgement", "recall-acknowledgement", "acknowledgement-overdue",
    ];

    public static IQueryable<LedgerEntry> VisibleTo(this IQueryable<LedgerEntry> entries, AuditDb db, ClaimsPrincipal user, Governance governance)
    {
        if (governance.IsCustodian(user))
        {
            return entries;
        }
        var organisation = user.Organisation();
        var actor = organisation + "/";
        var originated = db.Entries.Where(s => s.Type == "submission" && s.Originator == organisation).Select(s => s.PackageId);
        var received = db.DeliveredCopies.Where(c => c.Partner == organisation).Select(c => (Guid?)c.PackageId);
        var copyTypes = CopyEntryTypes.ToList();
        return entries.Where(e =>
            (e.PackageId != null && originated.Contains(e.PackageId))
            || (e.Partner == organisation && copyTypes.Contains(e.Type) && received.Contains(e.PackageId))
            || (e.Type == "consultation" && e.Actor.StartsWith(actor)));
    }
}
