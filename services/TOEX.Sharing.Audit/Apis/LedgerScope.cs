using System.Security.Claims;
using TOEX.Sharing.Audit.Data;
using TOEX.Sharing.ServiceDefaults;

namespace TOEX.Sharing.Audit.Apis;

/// <summary>
/// Which ledger entries a caller may read. The ledger's custodians (<c>Audit:Custodians</c>: the organisations
/// that run the broker and answer for the whole ledger, e.g. to the ICO) read every entry and may export it.
/// Everyone else with <c>Audit.Read</c> reads only what concerns their own organisation: entries about the
/// packages it originated, disclosures and decisions for it as a recipient, and its own consultations.
/// The tree heads and proofs are hashes only and are open to every <c>Audit.Read</c> caller.
/// </summary>
public static class LedgerScope
{
    public static bool IsCustodian(this ClaimsPrincipal user, AuditOptions options) =>
        options.Custodians.Contains(user.Organisation(), StringComparer.Ordinal);

    public static IQueryable<LedgerEntry> VisibleTo(this IQueryable<LedgerEntry> entries, AuditDb db, ClaimsPrincipal user, AuditOptions options)
    {
        if (user.IsCustodian(options))
        {
            return entries;
        }
        var organisation = user.Organisation();
        var quoted = $"\"{organisation}\"";
        var actor = organisation + "/";
        var originated = db.Entries.Where(s => s.Type == "submission" && s.Originator == organisation).Select(s => s.PackageId);
        return entries.Where(e => e.Originator == organisation
            || e.Partner == organisation
            || e.RecipientsJson.Contains(quoted)
            || e.Actor.StartsWith(actor)
            || (e.PackageId != null && originated.Contains(e.PackageId)));
    }
}
