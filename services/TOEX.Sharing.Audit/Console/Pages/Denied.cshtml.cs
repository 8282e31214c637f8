using Microsoft.AspNetCore.Mvc.RazorPages;

namespace TOEX.Sharing.Audit.Console.Pages;

public sealed class DeniedModel : PageModel
{
    public void OnGet()
    {
    }
}
