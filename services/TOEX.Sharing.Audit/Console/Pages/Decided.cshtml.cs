using Microsoft.AspNetCore.Authorization;
using TOEX.Sharing.ServiceDefaults;

namespace TOEX.Sharing.Audit.Console.Pages;

[Authorize(Policy = $"{ConsoleAuthentication.Policy}:{Roles.DisclosuresApprove}")]
public sealed class DecidedModel : ConsolePageModel
{
    public string Decision { get; private set; } = "";

    public string Recipient { get; private set; } = "";

    public Guid Package { get; private set; }

    public void OnGet(string? decision, string? recipient, Guid package)
    {
        Decision = decision == "approved" ? "approved" : "rejected";
        Recipient = recipient ?? "";
        Package = package;
    }
}
