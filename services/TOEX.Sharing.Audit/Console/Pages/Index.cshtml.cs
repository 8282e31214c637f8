namespace TOEX.Sharing.Audit.Console.Pages;

public sealed class IndexModel(PendingReferrals referrals) : ConsolePageModel
{
    public int Waiting { get; private set; }

    public async Task OnGetAsync() =>
        Waiting = Can(ServiceDefaults.Roles.DisclosuresApprove) ? (await referrals.PendingAsync(User, HttpContext.RequestAborted)).Count : 0;
}
