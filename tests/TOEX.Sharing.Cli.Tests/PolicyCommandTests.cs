using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using TOEX.Sharing.Testing;

namespace TOEX.Sharing.Cli.Tests;

/// <summary><c>toex policy validate|test|simulate</c> against the shipped policies and sample packages.</summary>
public sealed partial class PolicyCommandTests : IDisposable
{
    private readonly string _temp = Directory.CreateTempSubdirectory("toex-cli-policy-").FullName;

    public void Dispose() => Directory.Delete(_temp, recursive: true);

    [GeneratedRegex(@"^[^\s:]+:\d+: \S.*$")]
    private static partial Regex ProblemLine();

    [Fact]
    public async Task Validate_accepts_the_shipped_policies()
    {
        var run = await Toex.RunAsync("policy", "validate");

        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Contains("no problems", run.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Validate_warns_of_agreements_overdue_for_review_or_expiring_within_60_days()
    {
        var run = await Toex.RunAsync("policy", "validate", "--at", "2026-05-15");

        Assert.True(run.ExitCode == 0, run.ToString());
        var warnings = run.Output.Split('\n', StringSplitOptions.TrimEntries).Where(l => l.StartsWith("warning: ", StringComparison.Ordinal)).ToList();
        Assert.Equal(
        [
            "warning: agreement DSA-BF-005: review due on 2026-06-01, in 17 days",
            "warning: agreement ISA-NHS-004: expires on 2026-06-30, in 46 days",
            "warning: agreement ISA-NHS-004: review overdue since 2026-03-01 (75 days)",
        ], warnings);
        Assert.Contains("3 warning(s) on 2026-05-15", run.Output, StringComparison.Ordinal);

        var usage = await Toex.RunAsync("policy", "validate", "--at", "15/05/2026");
        Assert.True(usage.ExitCode == 2, usage.ToString());
    }

    [Fact]
    public async Task Validate_reports_a_broken_copy_as_file_line_message_and_exits_1()
    {
        CopyDirectory(RepoPaths.Policies, _temp);
        var agreements = Path.Combine(_temp, "agreements.yaml");
        var lines = File.ReadAllLines(agreements);
        var broken = Array.FindIndex(lines, l => l.Trim() == "status: active");
        Assert.True(broken >= 0, "The shipped agreements have no 'status: active' line to break.");
        lines[broken] = lines[broken].Replace("active", "bogus", StringComparison.Ordinal);
        File.WriteAllLines(agreements, lines);

        var run = await Toex.RunAsync("policy", "validate", "--policies", _temp);

        Assert.True(run.ExitCode == 1, run.ToString());
        var problems = run.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        Assert.NotEmpty(problems);
        Assert.All(problems, p => Assert.Matches(ProblemLine(), p));
        Assert.Contains(problems, p => p.StartsWith($"agreements.yaml:{broken + 1}: ", StringComparison.Ordinal)
            && p.Contains("'bogus'", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Test_passes_every_shipped_case()
    {
        var run = await Toex.RunAsync("policy", "test");

        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Matches(@"\b\d+ passed, 0 failed, \d+ total", run.Output);
        Assert.DoesNotContain("FAIL ", run.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Simulate_prints_the_domain_example_decisions()
    {
        var run = await Toex.RunAsync("policy", "simulate", "--package", "deploy/samples/rocuwm-2026-000123.json", "--at", "2026-11-25T12:00:00Z");

        Assert.True(run.ExitCode == 0, run.ToString());
        var document = JsonNode.Parse(run.Output)!.AsObject();
        Assert.StartsWith("sha256:", (string)document["policyVersion"]!, StringComparison.Ordinal);
        var decisions = document["decisions"]!.AsArray().Select(d => d!.AsObject()).ToList();
        Assert.Equal(["bcc-childrens", "wmp"], decisions.Select(d => (string)d["recipient"]!));

        var bcc = decisions[0];
        Assert.Equal("permit", (string)bcc["outcome"]!);
        Assert.Equal("ISA-BCC-003", (string)bcc["agreement"]!);
        var obligations = bcc["obligations"]!.AsArray().Select(o => o!.AsObject()).ToList();
        Assert.Equal(["sanitise", "attach-conditions", "acknowledge", "retain-until", "no-onward-sharing"],
            obligations.Select(o => (string)o["type"]!));
        Assert.Equal("2027-11-25", (string)obligations.Single(o => (string)o["type"]! == "retain-until")["date"]!);

        var wmp = decisions[1];
        Assert.Equal("deny", (string)wmp["outcome"]!);
        Assert.Equal(["PURPOSE_NOT_PERMITTED", "GATEWAY_NOT_PERMITTED", "ADVICE_REVIEW_OVERDUE"],
            wmp["reasons"]!.AsArray().Select(r => (string)r!["code"]!));
        Assert.Empty(wmp["obligations"]!.AsArray());
    }

    [Fact]
    public async Task Simulate_exits_2_for_a_package_file_that_does_not_exist()
    {
        var run = await Toex.RunAsync("policy", "simulate", "--package", Path.Combine(_temp, "missing.json"));

        Assert.True(run.ExitCode == 2, run.ToString());
        Assert.Contains("missing.json", run.Error, StringComparison.Ordinal);
        Assert.Empty(run.Output);
    }

    [Theory]
    [InlineData("frobnicate")]
    [InlineData("policy", "frobnicate")]
    public async Task Exits_2_for_an_unknown_command(params string[] arguments)
    {
        var run = await Toex.RunAsync(arguments);

        Assert.True(run.ExitCode == 2, run.ToString());
        Assert.Contains("frobnicate", run.Error, StringComparison.Ordinal);
    }

    private static void CopyDirectory(string from, string to)
    {
        Directory.CreateDirectory(to);
        foreach (var file in Directory.GetFiles(from))
        {
            File.Copy(file, Path.Combine(to, Path.GetFileName(file)));
        }
        foreach (var directory in Directory.GetDirectories(from))
        {
            CopyDirectory(directory, Path.Combine(to, Path.GetFileName(directory)));
        }
    }
}
