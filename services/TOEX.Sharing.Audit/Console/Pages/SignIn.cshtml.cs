using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.Extensions.Options;
using TOEX.Sharing.Sealing;
using TOEX.Sharing.ServiceDefaults;

namespace TOEX.Sharing.Audit.Console.Pages;

/// <summary>Sign-in: one button per identity provider (code flow with PKCE), and in Development only, the development sign-in.</summary>
public sealed class SignInModel(IOptions<ConsoleOptions> options, IWebHostEnvironment environment, IServiceProvider services) : PageModel
{
    public IReadOnlyList<ConsoleIssuerOptions> Providers => options.Value.Issuers;

    /// <summary>The development sign-in exists only in Development, and only with the development issuer enabled.</summary>
    public bool Development => environment.IsDevelopment() && services.GetService<DevIssuer>() is not null;

    public string ReturnUrl { get; private set; } = "/";

    public bool Failed { get; private set; }

    public string Organisation { get; private set; } = "";

    public string Subject { get; private set; } = "";

    public IReadOnlyList<string> Roles { get; private set; } = [ServiceDefaults.Roles.AuditRead];

    public Dictionary<string, string> Errors { get; } = [];

    public void OnGet(string? returnUrl, string? failed)
    {
        ReturnUrl = Local(returnUrl);
        Failed = failed is not null;
    }

    public async Task<IActionResult> OnPostDevelopmentAsync(string? returnUrl, string? organisation, string? subject, string[]? roles)
    {
        if (!Development)
        {
            return NotFound();
        }
        ReturnUrl = Local(returnUrl);
        Organisation = organisation?.Trim() ?? "";
        Subject = subject?.Trim() ?? "";
        Roles = [.. (roles ?? []).Where(r => ServiceDefaults.Roles.All.Contains(r))];
        if (!System.Text.RegularExpressions.Regex.IsMatch(Organisation, "^[a-z0-9][a-z0-9-]{0,63}$"))
        {
            Errors["organisation"] = "Enter a partner id, for example rocu-wm";
        }
        if (Subject.Length is 0 or > 100 || Subject.Any(char.IsControl))
        {
            Errors["subject"] = "Enter your user id, at most 100 characters";
        }
        if (Errors.Count > 0)
        {
            return Page();
        }
        var issuer = services.GetRequiredService<DevIssuer>();
        var token = issuer.CreateToken(Organisation, Roles.ToList(), Subject, options.Value.SessionLifetime);
        var properties = new AuthenticationProperties { RedirectUri = ReturnUrl };
        var session = await ConsoleAuthentication.SessionAsync(HttpContext, ServiceDefaults.Authentication.DevIssuerScheme, token,
            ConsoleAuthentication.DevelopmentSignIn, properties);
        if (session is null)
        {
            Errors["organisation"] = "The development issuer's token was refused";
            return Page();
        }
        await HttpContext.SignInAsync(ConsoleAuthentication.CookieScheme, session, properties);
        return LocalRedirect(ReturnUrl);
    }

    private string Local(string? returnUrl) => returnUrl is not null && Url.IsLocalUrl(returnUrl) ? returnUrl : "/";
}
