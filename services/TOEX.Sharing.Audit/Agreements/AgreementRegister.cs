using System.Security.Claims;
using Microsoft.EntityFrameworkCore;
using TOEX.Sharing.ServiceDefaults;
using TOEX.Sharing.Audit.Apis;
using TOEX.Sharing.Audit.Data;
using TOEX.Sharing.Policy;

namespace TOEX.Sharing.Audit.Agreements;

public sealed record AgreementWarningView(string Code, DateOnly Date, string Message);

public sealed record AgreementView(
    string Id, string Title, string Owner, string Version, string Status, bool InForce,
    IReadOnlyList<string> Originators, IReadOnlyList<string> Recipients, IReadOnlyList<string> Purposes,
    IReadOnlyList<string> LawfulBases, IReadOnlyList<string> StatutoryGateways, IReadOnlyList<string> DataCategories,
    IReadOnlyList<string> SensitiveConditions, string Ceiling, bool ConditionsAccepted, IReadOnlyList<string> NeedsApproval,
    IReadOnlyList<string> WithheldFields, int? RetentionDays, bool OnwardSharing, DateOnly ValidFrom, DateOnly ValidTo, DateOnly ReviewDue,
    IReadOnlyList<AgreementWarningView> Warnings);

public sealed record AgreementRegisterView(string PolicyVersion, DateOnly At, IReadOnlyList<AgreementView> Items);

/// <summary>
/// The agreement register of the policy set (<c>Audit:PoliciesPath</c>): every agreement with its parties, purposes,
/// bases, ceiling, status, validity and review date, and its warnings (<see cref="AgreementReview"/>). The ledger's
/// custodians see every agreement; any other organisation the agreements it is a party to.
/// </summary>
public sealed class AgreementRegister(PolicySet policies, Governance governance)
{
    public PolicySet Policies => policies;

    /// <summary>The agreements <paramref name="user"/>'s organisation is a party to (every one for a custodian).</summary>
    public IReadOnlyList<Agreement> AgreementsOf(ClaimsPrincipal user)
    {
        var organisation = user.FindFirst(ServiceDefaults.Authentication.OrganisationClaim)?.Value;
        var all = governance.IsCustodian(user);
        return [.. policies.Agreements.Values
            .Where(a => all || a.Originators.Contains(organisation) || a.Recipients.Contains(organisation))
            .OrderBy(a => a.Id, StringComparer.Ordinal)];
    }

    /// <summary>
    /// The organisations <paramref name="user"/>'s organisation may know of: itself and the other parties to its
    /// agreements (every partner of the region for a custodian). A search form offers no other, so the register of who
    /// shares with whom is not read from a drop-down list.
    /// </summary>
    public IReadOnlyList<Partner> PartnersOf(ClaimsPrincipal user)
    {
        var organisation = user.FindFirst(ServiceDefaults.Authentication.OrganisationClaim)?.Value;
        var known = AgreementsOf(user).SelectMany(a => a.Originators.Concat(a.Recipients)).Append(organisation).ToHashSet(StringComparer.Ordinal);
        return [.. policies.Partners.Values.Where(p => governance.IsCustodian(user) || known.Contains(p.Id)).OrderBy(p => p.Name, StringComparer.Ordinal)];
    }

    public AgreementRegisterView For(ClaimsPrincipal user, DateOnly at)
    {
        var items = AgreementsOf(user)
            .Select(a => new AgreementView(
                a.Id, a.Title, a.Owner, a.Version, a.Status, AgreementReview.InForce(a, at), a.Originators, a.Recipients, a.Purposes,
                a.LawfulBases, a.StatutoryGateways, a.DataCategories, a.SensitiveConditions, a.Ceiling, a.ConditionsAccepted, a.NeedsApproval,
                a.WithheldFields, a.RetentionDays, a.OnwardSharing, a.ValidFrom, a.ValidTo, a.ReviewDue,
                [.. AgreementReview.Warnings(a, at).Select(w => new AgreementWarningView(w.Code, w.Date, w.Message))]))
            .ToList();
        return new AgreementRegisterView(policies.Version, at, items);
    }

    /// <summary>
    /// Disclosures (release entries: copies put on a recipient's channel) under each agreement from <paramref name="from"/>
    /// to <paramref name="to"/>, both inclusive, of the entries <paramref name="user"/> may read.
    /// </summary>
    public async Task<IReadOnlyDictionary<string, int>> DisclosureCountsAsync(AuditDb db, ClaimsPrincipal user, DateTimeOffset from, DateTimeOffset to,
        CancellationToken cancellationToken)
    {
        var filter = new EntryFilter { Type = "release", From = from, To = to };
        var counts = await filter.Apply(db).VisibleTo(db, user, governance).Where(e => e.Agreement != null)
            .GroupBy(e => e.Agreement!).Select(g => new { g.Key, Count = g.Count() }).ToListAsync(cancellationToken);
        return counts.ToDictionary(c => c.Key, c => c.Count, StringComparer.Ordinal);
    }
}
