using System.CommandLine;
using TOEX.Sharing.Sealing;

namespace TOEX.Sharing.Cli;

/// <summary><c>toex token dev</c>: an access token from the development issuer (local runs and tests only).</summary>
public static class TokenCommands
{
    private const int MaximumLifetimeMinutes = 24 * 60;

    public static Command Create()
    {
        var organisation = new Option<string>("--org")
        {
            Description = "The caller's organisation (partner id), issued as the 'org' claim.",
            Required = true,
        };
        var roles = new Option<string>("--roles")
        {
            Description = "Comma-separated roles, e.g. Packages.Submit,Feed.Read.",
            Required = true,
        };
        var subject = new Option<string?>("--subject")
        {
            Description = "The 'sub' claim. Default: dev-user@ORG.",
        };
        var lifetime = new Option<int>("--lifetime")
        {
            Description = $"Minutes the token is valid (1 to {MaximumLifetimeMinutes}).",
            DefaultValueFactory = _ => 60,
        };
        lifetime.Validators.Add(result =>
        {
            if (result.GetValueOrDefault<int>() is < 1 or > MaximumLifetimeMinutes)
            {
                result.AddError($"--lifetime must be between 1 and {MaximumLifetimeMinutes} minutes.");
            }
        });

        var dev = new Command("dev", $"Prints a token from the development issuer (key in ${DevIssuer.DirectoryVariable} or .local/dev-issuer).")
        {
            organisation,
            roles,
            subject,
            lifetime,
        };
        dev.SetAction(parseResult => CreateDevToken(
            parseResult,
            parseResult.GetRequiredValue(organisation),
            parseResult.GetRequiredValue(roles),
            parseResult.GetValue(subject),
            parseResult.GetValue(lifetime)));

        return new Command("token", "Access tokens for local runs and tests.") { dev };
    }

    private static int CreateDevToken(ParseResult parseResult, string organisation, string roleList, string? subject, int lifetimeMinutes)
    {
        var error = parseResult.InvocationConfiguration.Error;
        var roles = roleList.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (string.IsNullOrWhiteSpace(organisation) || roles.Length == 0)
        {
            error.WriteLine("toex token dev: --org and at least one role in --roles are required.");
            return ExitCodes.Usage;
        }

        string directory;
        try
        {
            directory = DevIssuer.DefaultDirectory();
        }
        catch (InvalidOperationException exception)
        {
            error.WriteLine($"toex token dev: {exception.Message}");
            return ExitCodes.Usage;
        }

        try
        {
            using var issuer = DevIssuer.OpenOrCreate(directory, TimeProvider.System);
            var token = issuer.CreateToken(organisation.Trim(), roles, subject ?? $"dev-user@{organisation.Trim()}", TimeSpan.FromMinutes(lifetimeMinutes));
            parseResult.InvocationConfiguration.Output.WriteLine(token);
            return ExitCodes.Success;
        }
        catch (SealException exception)
        {
            error.WriteLine($"toex token dev: {exception.Message}");
            return ExitCodes.Finding;
        }
    }
}
