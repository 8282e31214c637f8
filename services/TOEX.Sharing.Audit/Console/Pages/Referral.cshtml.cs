using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using TOEX.Sharing.Audit.Referrals;
using TOEX.Sharing.ServiceDefaults;

namespace TOEX.Sharing.Audit.Console.Pages;

/// <summary>
/// One referral: why it was referred, the copy an approval would release (from the gateway, sealed for this service),
/// and the decision with a mandatory justification, taken by the referral decision code the API uses. Opening it is a
/// consultation of personal data (s62). Nothing (404) for a referral the officer may not decide.
/// </summary>
[Authorize(Policy = $"{ConsoleAuthentication.Policy}:{Roles.DisclosuresApprove}")]
public sealed class ReferralModel(PendingReferrals referrals, ReferralPreviews previews, ReferralDecisions decisions) : ConsolePageModel
{
    public ReferralView Referral { get; private set; } = null!;

    public ReferralPreview Preview { get; private set; } = new(null, null);

    public string? Error { get; private set; }

    [BindProperty]
    public string? Justification { get; set; }

    /// <summary>Whoever submitted the package cannot approve its referral (separation of duties).</summary>
    public bool Submitter => Referral.SubmittedBy == Officer;

    public async Task<IActionResult> OnGetAsync(Guid id) => await LoadAsync(id) ?? Page();

    public async Task<IActionResult> OnPostAsync(Guid id, string? decision)
    {
        var missing = await LoadAsync(id, preview: false);
        if (missing is not null)
        {
            return missing;
        }
        if (decision is not ("approved" or "rejected"))
        {
            return BadRequest();
        }
        if (string.IsNullOrWhiteSpace(Justification))
        {
            Error = $"Enter why this disclosure is {decision}";
            return await LoadAsync(id) ?? Page();
        }
        if (Justification.Trim().Length > ReferralsApi.MaxJustification || !ServiceDefaults.Justification.IsPlainText(Justification.Trim()))
        {
            Error = $"The justification must be at most {ReferralsApi.MaxJustification} characters, without control characters.";
            return await LoadAsync(id) ?? Page();
        }
        var verdict = decision == "approved" ? ReferralVerdict.Approved : ReferralVerdict.Rejected;
        var result = await decisions.DecideAsync(id, verdict, Justification.Trim(), User, HttpContext.RequestAborted);
        switch (result.Outcome)
        {
            case ReferralOutcome.Decided:
                return Redirect($"/referrals/decided?decision={decision}&recipient={Uri.EscapeDataString(Referral.Recipient)}&package={Referral.PackageId}");
            case ReferralOutcome.NotFound:
                return NotFound();
            case ReferralOutcome.AlreadyDecided:
                Error = $"This referral was already {result.PreviousDecision ?? "decided"}.";
                break;
            case ReferralOutcome.SubmitterCannotApprove:
                Error = "You submitted this package, so you cannot approve its referral.";
                break;
            default:
                Error = "The message broker did not confirm the decision; nothing was recorded. Try again.";
                break;
        }
        return await LoadAsync(id) ?? Page();
    }

    private async Task<IActionResult?> LoadAsync(Guid id, bool preview = true)
    {
        var justification = SessionJustification;
        if (justification is null)
        {
            return AskJustification();
        }
        var referral = (await referrals.PendingAsync(User, HttpContext.RequestAborted)).FirstOrDefault(r => r.Id == id);
        if (referral is null)
        {
            return NotFound();
        }
        Referral = referral;
        if (preview)
        {
            Preview = await previews.PreviewAsync(referral, Officer, HttpContext.RequestAborted);
            if (Preview.Copy is not null)
            {
                await RecordAsync("console-referral-preview", justification, new Dictionary<string, object?>
                {
                    ["package"] = referral.PackageId,
                    ["referral"] = referral.Id,
                    ["recipient"] = referral.Recipient,
                });
            }
        }
        return null;
    }
}
