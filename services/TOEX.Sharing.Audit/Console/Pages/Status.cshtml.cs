using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace TOEX.Sharing.Audit.Console.Pages;

/// <summary>The console's page for an error status (404 above all: the same for a disclosure that does not exist and one that is not yours).</summary>
[AllowAnonymous]
public sealed class StatusModel : PageModel
{
    public string Title { get; private set; } = "";

    public string Text { get; private set; } = "";

    public void OnGet(int code)
    {
        (Title, Text) = code switch
        {
            404 => ("Page not found", "There is nothing here that you may see. Check the address, or start again from the start page."),
            400 => ("The request could not be used", "The form may have expired: go back, reload the page and try again."),
            _ => ("Something went wrong", "Try again later."),
        };
    }
}
