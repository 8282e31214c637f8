using System.CommandLine;
using TOEX.Sharing.Cli;

// toex: the project's command-line tool. Exit 0 success, 1 a finding (denied, invalid, unverifiable), 2 a usage error.
var root = new RootCommand("TOEX.Sharing command-line tool: policies, packages, audit evidence, development tokens and keys.")
{
    PolicyCommands.Create(),
    PackageCommands.Create(),
    TokenCommands.Create(),
    KeyCommands.Create(),
    FeedCommands.Create(),
    WebhookCommands.Create(),
    AuditCommands.Create(),
};

var parsed = root.Parse(args);
if (parsed.Errors.Count > 0)
{
    foreach (var error in parsed.Errors)
    {
        await Console.Error.WriteLineAsync(error.Message);
    }
    await Console.Error.WriteLineAsync("Run 'toex --help' for usage.");
    return ExitCodes.Usage;
}
return await parsed.InvokeAsync();
