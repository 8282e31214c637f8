using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using TOEX.Sharing.Contracts;
using TOEX.Sharing.Policy;

namespace TOEX.Sharing.Cli;

/// <summary>
/// <c>toex policy validate|test|simulate</c> (API.md "The toex tool"). Exit 0 success, 1 a finding
/// (invalid policies, a failing test case), 2 a usage error (bad arguments or input files).
/// </summary>
public static class PolicyCommands
{
    private static readonly JsonSerializerOptions Indented = new(ToexJson.Options) { WriteIndented = true };

    public static Command Create()
    {
        var command = new Command("policy", "Validate, test and simulate the policy set.");
        command.Subcommands.Add(Validate());
        command.Subcommands.Add(Test());
        command.Subcommands.Add(Simulate());
        return command;
    }

    private static Option<string> PoliciesOption() => new("--policies")
    {
        Description = "The policies directory (default: the repository's policies/).",
        HelpName = "DIR",
    };

    private static Command Validate()
    {
        var policies = PoliciesOption();
        var at = new Option<string>("--at")
        {
            Description = "The day the agreements' review and expiry are judged on, yyyy-MM-dd (default: today, UTC).",
            HelpName = "DATE",
        };
        var command = new Command("validate",
            $"Check the policy set; print every problem as file:line: message, and warn of agreements overdue for review, expired, or due either within {AgreementReview.WarningDays} days.")
        {
            policies, at,
        };
        command.SetAction(parseResult =>
        {
            var output = parseResult.InvocationConfiguration.Output;
            var error = parseResult.InvocationConfiguration.Error;
            var today = DateOnly.FromDateTime(TimeProvider.System.GetUtcNow().UtcDateTime);
            if (parseResult.GetValue(at) is { } day && !DateOnly.TryParseExact(day, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out today))
            {
                error.WriteLine($"--at: '{day}' is not a date, yyyy-MM-dd.");
                return ExitCodes.Usage;
            }
            return WithPolicies(parseResult.GetValue(policies), output, error, directory =>
            {
                var set = PolicySet.Load(directory);
                var warnings = set.Agreements.Values.OrderBy(a => a.Id, StringComparer.Ordinal)
                    .SelectMany(a => AgreementReview.Warnings(a, today).Select(w => $"warning: agreement {a.Id}: {w.Message}"))
                    .ToList();
                output.WriteLine($"{directory}: {set.Partners.Count} partners, {set.Agreements.Count} agreements, no problems ({set.Version})");
                foreach (var warning in warnings)
                {
                    output.WriteLine(warning);
                }
                output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"{warnings.Count} warning(s) on {today:yyyy-MM-dd} (review or expiry within {AgreementReview.WarningDays} days, or past)."));
                return ExitCodes.Success;
            });
        });
        return command;
    }

    private static Command Test()
    {
        var policies = PoliciesOption();
        var command = new Command("test", "Run the policy test cases kept beside the policies (tests/*.yaml).") { policies };
        command.SetAction(parseResult =>
        {
            var output = parseResult.InvocationConfiguration.Output;
            var error = parseResult.InvocationConfiguration.Error;
            return WithPolicies(parseResult.GetValue(policies), output, error, directory =>
            {
                var results = PolicyTestRunner.Run(directory);
                foreach (var result in results)
                {
                    output.WriteLine(result.Passed ? $"PASS {result.Name}" : $"FAIL {result.Name}\n  {result.Failure?.Replace("\n", "\n  ", StringComparison.Ordinal)}");
                }

                var failed = results.Count(r => !r.Passed);
                output.WriteLine($"{results.Count - failed} passed, {failed} failed, {results.Count} total");
                return failed == 0 && results.Count > 0 ? ExitCodes.Success : ExitCodes.Finding;
            });
        });
        return command;
    }

    private static Command Simulate()
    {
        var policies = PoliciesOption();
        var package = new Option<string>("--package")
        {
            Description = "An intelligence package (JSON, wire format v1).",
            HelpName = "FILE",
            Required = true,
        };
        var at = new Option<string>("--at")
        {
            Description = "The instant to decide at, ISO-8601 (default: now).",
            HelpName = "ISO-8601",
        };
        var command = new Command("simulate", "Print the decisions that would be taken for a package; nothing is sent.") { package, at, policies };
        command.SetAction(parseResult =>
        {
            var output = parseResult.InvocationConfiguration.Output;
            var error = parseResult.InvocationConfiguration.Error;

            var atText = parseResult.GetValue(at);
            DateTimeOffset instant;
            if (atText is null)
            {
                instant = TimeProvider.System.GetUtcNow();
            }
            else if (!DateTimeOffset.TryParse(atText, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out instant))
            {
                error.WriteLine($"--at: '{atText}' is not an ISO-8601 instant (e.g. 2026-11-25T12:00:00Z).");
                return ExitCodes.Usage;
            }

            var facts = ReadPackage(parseResult.GetRequiredValue(package), error);
            if (facts is null)
            {
                return ExitCodes.Usage;
            }

            return WithPolicies(parseResult.GetValue(policies), output, error, directory =>
            {
                var decisions = new PolicyEngine(PolicySet.Load(directory)).Decide(facts, instant);
                output.WriteLine(JsonSerializer.Serialize(decisions, Indented));
                return ExitCodes.Success;
            });
        });
        return command;
    }

    private static PackageFacts? ReadPackage(string path, TextWriter error)
    {
        string json;
        try
        {
            json = File.ReadAllText(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            error.WriteLine($"--package: cannot read '{path}': {e.Message}");
            return null;
        }

        try
        {
            var package = ToexJson.Deserialize<IntelligencePackage>(json);
            if (package.Recipients is null || package.DataCategories is null)
            {
                error.WriteLine($"--package: '{path}' has no 'recipients' or no 'dataCategories'.");
                return null;
            }

            return package.ToFacts();
        }
        catch (JsonException e)
        {
            // The JSON message names the path and position of the problem, never the value.
            error.WriteLine($"--package: '{path}' is not an intelligence package: {e.Message}");
            return null;
        }
    }

    /// <summary>Resolves the policies directory and runs <paramref name="action"/>, mapping policy errors to exit codes.</summary>
    private static int WithPolicies(string? option, TextWriter output, TextWriter error, Func<string, int> action)
    {
        string directory;
        try
        {
            directory = option ?? PolicyPaths.FindDefault();
        }
        catch (DirectoryNotFoundException e)
        {
            error.WriteLine(e.Message);
            return ExitCodes.Usage;
        }

        try
        {
            return action(directory);
        }
        catch (PolicyValidationException e)
        {
            foreach (var problem in e.Problems)
            {
                output.WriteLine(problem.ToString());
            }

            error.WriteLine($"{e.Problems.Count} problem(s) in the policy set at {directory}.");
            return ExitCodes.Finding;
        }
        catch (DirectoryNotFoundException e)
        {
            error.WriteLine(e.Message);
            return ExitCodes.Usage;
        }
    }
}
