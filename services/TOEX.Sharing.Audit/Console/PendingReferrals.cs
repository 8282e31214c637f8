using System.Security.Claims;
using TOEX.Sharing.Audit.Data;
using TOEX.Sharing.Audit.Referrals;

namespace TOEX.Sharing.Audit.Console;

/// <summary>The referrals an officer may decide, as the referrals route lists them (oldest first; the same scope).</summary>
public sealed class PendingReferrals(AuditDb db)
{
    public async Task<IReadOnlyList<ReferralView>> PendingAsync(ClaimsPrincipal user, CancellationToken cancellationToken) =>
        (await ReferralsApi.List(user, db, cancellationToken)).Value!.Items;
}
