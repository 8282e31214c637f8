using Microsoft.AspNetCore.Mvc;

namespace TOEX.Sharing.Audit.Console.Pages;

/// <summary>Asks for the session's justification (s62) once, then returns to the page that needed it.</summary>
public sealed class JustifyModel : ConsolePageModel
{
    public string ReturnUrl { get; private set; } = "/";

    public string? Error { get; private set; }

    public string? Justification { get; private set; }

    public void OnGet(string? returnUrl)
    {
        ReturnUrl = returnUrl is not null && Url.IsLocalUrl(returnUrl) ? returnUrl : "/";
        Justification = SessionJustification;
    }

    public async Task<IActionResult> OnPostAsync(string? returnUrl, string? justification)
    {
        ReturnUrl = returnUrl is not null && Url.IsLocalUrl(returnUrl) ? returnUrl : "/";
        var (value, error) = Validate(justification);
        if (value is null)
        {
            Error = error ?? "Enter why you need to see this personal data";
            Justification = justification;
            return Page();
        }
        await KeepJustificationAsync(value);
        return LocalRedirect(ReturnUrl);
    }
}
