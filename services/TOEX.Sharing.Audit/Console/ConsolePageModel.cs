using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using TOEX.Sharing.Audit.Apis;
using TOEX.Sharing.ServiceDefaults;

namespace TOEX.Sharing.Audit.Console;

/// <summary>
/// What every console page shares: who is signed in, their roles, and DPA 2018 s62: a page that shows personal data
/// asks for a justification once per session (or takes the one given with a search) and records a consultation in the
/// ledger (who, when, what, why) before it shows anything.
/// </summary>
public abstract class ConsolePageModel : PageModel
{
    public string Organisation => User.Organisation();

    public string Officer => User.Actor();

    public bool Can(string role) => User.IsInRole(role);

    public string? SessionJustification => User.FindFirst(ConsoleAuthentication.JustificationClaim)?.Value;

    /// <summary>A justification given with a request: (value, null), (null, why it is refused), or (null, null) when none.</summary>
    public static (string? Value, string? Error) Validate(string? given)
    {
        if (given is null || given.Trim().Length == 0)
        {
            return (null, null);
        }
        var value = given.Trim();
        return value.Length > Justification.MaxLength || value.Any(char.IsControl)
            ? (null, $"The justification must be at most {Justification.MaxLength} characters, on one line.")
            : (value, null);
    }

    /// <summary>The justification for this consultation: the one given with it, or the session's; null when there is none yet.</summary>
    protected string? JustificationFor(string? given) => Validate(given).Value ?? SessionJustification;

    /// <summary>Sends the officer to give a justification, then back here.</summary>
    protected IActionResult AskJustification() =>
        Redirect($"/justify?returnUrl={Uri.EscapeDataString(Request.Path + Request.QueryString)}");

    /// <summary>Records a consultation (s62) by the signed-in officer, appended to the ledger before the page is answered.</summary>
    protected Task RecordAsync(string kind, string justification, IReadOnlyDictionary<string, object?> detail) =>
        AuditConsultations.RecordAsync(HttpContext, kind, justification, detail, HttpContext.RequestAborted);

    /// <summary>Keeps <paramref name="justification"/> as the session's (the cookie is issued again with it).</summary>
    protected async Task KeepJustificationAsync(string justification)
    {
        var current = await HttpContext.AuthenticateAsync(ConsoleAuthentication.CookieScheme);
        if (!current.Succeeded)
        {
            return;
        }
        var identity = (System.Security.Claims.ClaimsIdentity)current.Principal.Identity!;
        foreach (var claim in identity.FindAll(ConsoleAuthentication.JustificationClaim).ToList())
        {
            identity.RemoveClaim(claim);
        }
        identity.AddClaim(new System.Security.Claims.Claim(ConsoleAuthentication.JustificationClaim, justification));
        await HttpContext.SignInAsync(ConsoleAuthentication.CookieScheme, current.Principal, current.Properties);
    }
}
