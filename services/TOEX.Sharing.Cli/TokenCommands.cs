using System.CommandLine;
using TOEX.Sharing.Policy;
using TOEX.Sharing.Sealing;
using TOEX.Sharing.ServiceDefaults;

namespace TOEX.Sharing.Cli;

/// <summary>
/// <c>toex token dev</c>: an access token from the development issuer (local runs and tests only). It mints only
/// what the services know: roles of <see cref="Roles.All"/> and an organisation of the policy set, so a misspelt
/// role or partner id fails here, naming what is known, rather than as a bare 403 later. <c>--allow-unknown</c>
/// mints anything (tests of what the services do with a role or organisation they do not know).
/// </summary>
public static class TokenCommands
{
    private const int MaximumLifetimeMinutes = 24 * 60;

    public static Command Create()
    {
        var organisation = new Option<string>("--org")
        {
            Description = "The caller's organisation (a partner id of the policy set), issued as the 'org' claim.",
            Required = true,
        };
        var roles = new Option<string>("--roles")
        {
            Description = $"Comma-separated roles, of: {string.Join(", ", Roles.All)}.",
            Required = true,
        };
        var subject = new Option<string?>("--subject")
        {
            Description = "The 'sub' claim: who the caller is, as the audit ledger will record it. Default: dev-user@ORG.",
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
        var policies = new Option<string?>("--policies")
        {
            Description = "The policy set whose partners are the known organisations (default: the repository's policies/).",
            HelpName = "DIR",
        };
        var allowUnknown = new Option<bool>("--allow-unknown")
        {
            Description = "Mint a role or organisation the services do not know (tests only).",
        };

        var dev = new Command("dev", $"Prints a token from the development issuer (key in ${DevIssuer.DirectoryVariable} or .local/dev-issuer).")
        {
            organisation,
            roles,
            subject,
            lifetime,
            policies,
            allowUnknown,
        };
        dev.SetAction(parseResult => CreateDevToken(
            parseResult,
            new Request(
                parseResult.GetRequiredValue(organisation).Trim(),
                parseResult.GetRequiredValue(roles).Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries),
                parseResult.GetValue(subject),
                parseResult.GetValue(lifetime),
                parseResult.GetValue(policies),
                parseResult.GetValue(allowUnknown))));

        return new Command("token", "Access tokens for local runs and tests.") { dev };
    }

    private sealed record Request(string Organisation, string[] Roles, string? Subject, int LifetimeMinutes, string? Policies, bool AllowUnknown);

    private static int CreateDevToken(ParseResult parseResult, Request request)
    {
        var error = parseResult.InvocationConfiguration.Error;
        if (request.Organisation.Length == 0 || request.Roles.Length == 0)
        {
            error.WriteLine("toex token dev: --org and at least one role in --roles are required.");
            return ExitCodes.Usage;
        }
        if (!request.AllowUnknown && Unknown(request) is { } problem)
        {
            error.WriteLine($"toex token dev: {problem}");
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
            var token = issuer.CreateToken(request.Organisation, request.Roles, request.Subject ?? $"dev-user@{request.Organisation}",
                TimeSpan.FromMinutes(request.LifetimeMinutes));
            parseResult.InvocationConfiguration.Output.WriteLine(token);
            return ExitCodes.Success;
        }
        catch (SealException exception)
        {
            error.WriteLine($"toex token dev: {exception.Message}");
            return ExitCodes.Finding;
        }
    }

    /// <summary>What the services would not know in the request (a role, the organisation), or null.</summary>
    private static string? Unknown(Request request)
    {
        var roles = request.Roles.Where(role => !Roles.All.Contains(role, StringComparer.Ordinal)).ToList();
        if (roles.Count > 0)
        {
            return $"{string.Join(", ", roles.Select(r => $"'{r}'"))} {(roles.Count == 1 ? "is not a role" : "are not roles")} of the services. "
                + $"The roles are {string.Join(", ", Roles.All)} (--allow-unknown mints it anyway, for tests).";
        }

        PolicySet set;
        string directory;
        try
        {
            directory = request.Policies ?? PolicyPaths.FindDefault();
            set = PolicySet.Load(directory);
        }
        catch (Exception e) when (e is DirectoryNotFoundException or PolicyValidationException)
        {
            return $"the organisations are the partners of the policy set, which could not be read ({e.Message.Split('\n')[0].Trim()}); "
                + "give --policies DIR, or --allow-unknown.";
        }
        return set.Partners.ContainsKey(request.Organisation)
            ? null
            : $"'{request.Organisation}' is not an organisation of the policy set at {directory}. "
                + $"The organisations are {string.Join(", ", set.Partners.Keys.Order(StringComparer.Ordinal))} (--allow-unknown mints it anyway, for tests).";
    }
}
