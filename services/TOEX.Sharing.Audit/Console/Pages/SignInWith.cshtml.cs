using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.Extensions.Options;

namespace TOEX.Sharing.Audit.Console.Pages;

/// <summary>Starts the authorization code flow (with PKCE) at one configured identity provider.</summary>
[AllowAnonymous]
public sealed class SignInWithModel(IOptions<ConsoleOptions> options) : PageModel
{
    public IActionResult OnGet(string issuer, string? returnUrl)
    {
        var client = options.Value.Issuers.FirstOrDefault(i => i.Issuer == issuer);
        if (client is null)
        {
            return NotFound();
        }
        var back = returnUrl is not null && Url.IsLocalUrl(returnUrl) ? returnUrl : "/";
        return Challenge(new AuthenticationProperties { RedirectUri = back }, ConsoleAuthentication.SchemeOf(client));
    }
}
