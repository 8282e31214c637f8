using Microsoft.AspNetCore.Authorization;
using TOEX.Sharing.Audit.Referrals;
using TOEX.Sharing.ServiceDefaults;

namespace TOEX.Sharing.Audit.Console.Pages;

/// <summary>The referral queue, oldest first, with why each was referred and how long it has waited.</summary>
[Authorize(Policy = $"{ConsoleAuthentication.Policy}:{Roles.DisclosuresApprove}")]
public sealed class ReferralsModel(PendingReferrals referrals, TimeProvider time) : ConsolePageModel
{
    public IReadOnlyList<ReferralView> Items { get; private set; } = [];

    public DateTimeOffset Now { get; private set; }

    public async Task OnGetAsync()
    {
        Now = time.GetUtcNow();
        Items = await referrals.PendingAsync(User, HttpContext.RequestAborted);
    }

    public static string Waited(TimeSpan span) =>
        span.TotalDays >= 1 ? $"{(int)span.TotalDays} d {span.Hours} h" : span.TotalHours >= 1 ? $"{(int)span.TotalHours} h {span.Minutes} min" : $"{Math.Max(0, (int)span.TotalMinutes)} min";
}
