using System.Text.RegularExpressions;

namespace TOEX.Sharing.Policy.Tests;

public sealed class PolicySetTests
{
    private static readonly string Partners = PolicyYaml.Partners(PolicyYaml.Partner("x"), PolicyYaml.Partner("y"));

    [Fact]
    public void Loads_the_shipped_policies_with_no_problems()
    {
        var set = PolicySet.Load(PolicyPaths.FindDefault());

        Assert.Equal(
            ["bcc-childrens", "border-force-mids", "bsol-nhs-safeguarding", "nca", "rocu-wm", "safe-haven", "staffs", "wmp"],
            set.Partners.Keys.Order(StringComparer.Ordinal));
        Assert.Equal(
            ["DSA-BF-005", "DSA-NCA-002", "DSA-POLICE-001", "ISA-BCC-003", "ISA-NHS-004", "ISA-SH-006"],
            set.Agreements.Keys.Order(StringComparer.Ordinal));
        Assert.Matches("^sha256:[0-9a-f]{64}$", set.Version);
    }

    [Fact]
    public void Shipped_partners_match_the_reference_region()
    {
        var partners = PolicySet.Load(PolicyPaths.FindDefault()).Partners;

        Assert.Equal(new Partner("safe-haven", "Safe Haven (a charity supporting exploited adults)", "voluntary", false, "OFFICIAL", "push", new Uri("https://safe-haven.example/hooks/toex")), partners["safe-haven"]);
        Assert.Equal(["bcc-childrens", "bsol-nhs-safeguarding", "safe-haven"], partners.Values.Where(p => !p.Competent).Select(p => p.Id).Order(StringComparer.Ordinal));
        Assert.Equal(["bcc-childrens", "safe-haven", "staffs", "wmp"], partners.Values.Where(p => p.Delivery == "push").Select(p => p.Id).Order(StringComparer.Ordinal));
        Assert.All(partners.Values, p => Assert.Equal(p.Delivery == "push", p.Endpoint is not null));
    }

    [Fact]
    public void Shipped_agreements_match_the_reference_region()
    {
        var agreements = PolicySet.Load(PolicyPaths.FindDefault()).Agreements;

        var council = agreements["ISA-BCC-003"];
        Assert.Equal(["rocu-wm", "wmp"], council.Originators);
        Assert.Equal(["bcc-childrens"], council.Recipients);
        Assert.Equal(["safeguarding-children", "crime-and-disorder"], council.Purposes);
        Assert.Equal(["CA2004:s11", "CDA1998:s115"], council.StatutoryGateways);
        Assert.Equal(["special-category"], council.NeedsApproval);
        Assert.Equal((new DateOnly(2025, 6, 1), new DateOnly(2027, 5, 31), new DateOnly(2027, 1, 1)), (council.ValidFrom, council.ValidTo, council.ReviewDue));
        Assert.Equal("suspended", agreements["DSA-BF-005"].Status);
        Assert.Equal(["children"], agreements["ISA-NHS-004"].NeedsApproval);
        Assert.False(agreements["ISA-NHS-004"].ConditionsAccepted);
        Assert.Empty(agreements["DSA-POLICE-001"].StatutoryGateways);
        foreach (var id in (string[])["ISA-BCC-003", "ISA-NHS-004", "ISA-SH-006"])
        {
            Assert.Equal((365, false), (agreements[id].RetentionDays, agreements[id].OnwardSharing));
        }

        foreach (var id in (string[])["DSA-POLICE-001", "DSA-NCA-002", "DSA-BF-005"])
        {
            Assert.Equal((null, true), (agreements[id].RetentionDays, agreements[id].OnwardSharing));
        }

        Assert.All(agreements.Values, a => Assert.Equal(AgreementRules.All.Order(StringComparer.Ordinal), a.Clauses.Keys.Order(StringComparer.Ordinal)));
    }

    [Fact]
    public void Reports_an_unknown_key_with_file_and_line()
    {
        using var temp = new TempPolicies()
            .Write("partners.yaml", Partners.Replace("    delivery: pull\n", "    delivery: pull\n    colour: blue\n", StringComparison.Ordinal))
            .Write("agreements.yaml", PolicyYaml.Agreements(PolicyYaml.Agreement("A-1")));

        var error = temp.LoadFails();

        Assert.Equal([new PolicyProblem("partners.yaml", 8, "unknown key 'colour'"), new PolicyProblem("partners.yaml", 15, "unknown key 'colour'")], error.Problems);
        Assert.Equal("partners.yaml:8: unknown key 'colour'\npartners.yaml:15: unknown key 'colour'", error.Message);
    }

    [Fact]
    public void Reports_a_bad_date_with_file_and_line()
    {
        using var temp = new TempPolicies()
            .Write("partners.yaml", Partners)
            .Write("agreements.yaml", PolicyYaml.Agreements(PolicyYaml.Agreement("A-1")).Replace("validTo: 2027-12-31", "validTo: 2027-02-30", StringComparison.Ordinal));

        var error = temp.LoadFails();

        Assert.Equal("agreements.yaml:8: bad date '2027-02-30' for 'validTo' (expected yyyy-MM-dd)", Assert.Single(error.Problems).ToString());
    }

    [Fact]
    public void Reports_an_agreement_naming_an_unknown_partner_with_file_and_line()
    {
        using var temp = new TempPolicies()
            .Write("partners.yaml", Partners)
            .Write("agreements.yaml", PolicyYaml.Agreements(PolicyYaml.Agreement("A-1", originators: "[x]", recipients: "\n      - y\n      - z")));

        var error = temp.LoadFails();

        Assert.Equal("agreements.yaml:13: unknown partner 'z'", Assert.Single(error.Problems).ToString());
    }

    [Fact]
    public void Reports_every_problem_of_every_file_at_once_in_file_and_line_order()
    {
        var agreement = PolicyYaml.Agreement("A-1")
            .Replace("status: active", "status: live", StringComparison.Ordinal)
            .Replace("validFrom: 2025-01-01", "validFrom: 2028-01-01", StringComparison.Ordinal)
            .Replace("purposes: [law-enforcement]", "purposes: [law-enforcement, foo]", StringComparison.Ordinal)
            .Replace("ceiling: OFFICIAL-SENSITIVE", "ceiling: RESTRICTED", StringComparison.Ordinal)
            .Replace("    owner: Test owner\n", "", StringComparison.Ordinal)
            .Replace("      review: \"A-1 §13\"\n", "", StringComparison.Ordinal);
        using var temp = new TempPolicies()
            .Write("partners.yaml", Partners + PolicyYaml.Partner("x").Replace("delivery: pull", "delivery: push", StringComparison.Ordinal))
            .Write("agreements.yaml", PolicyYaml.Agreements(agreement, PolicyYaml.Agreement("A-1", originators: "[w]")));

        var error = temp.LoadFails();

        Assert.Equal(
            [
                "agreements.yaml:2: missing required key 'owner'",
                "agreements.yaml:5: unknown status 'live' (expected draft, active, suspended or terminated)",
                "agreements.yaml:6: validFrom 2028-01-01 is after validTo 2027-12-31",
                "agreements.yaml:11: unknown purpose 'foo'",
                "agreements.yaml:14: unknown classification 'RESTRICTED'",
                "agreements.yaml:20: missing clause reference for rule 'review'",
                "agreements.yaml:34: duplicate agreement id 'A-1' (first defined at agreements.yaml:2)",
                "agreements.yaml:42: unknown partner 'w'",
                "partners.yaml:14: duplicate partner id 'x' (first defined at partners.yaml:2)",
                "partners.yaml:19: push delivery needs an 'endpoint'",
            ],
            error.Problems.Select(p => p.ToString()));
        Assert.Equal(string.Join('\n', error.Problems), error.Message);
    }

    [Fact]
    public void Reports_yaml_syntax_errors_and_duplicate_keys_with_file_and_line()
    {
        using var temp = new TempPolicies()
            .Write("partners.yaml", Partners.Replace("    kind: police-force\n", "    kind: police-force\n    kind: nca\n", StringComparison.Ordinal))
            .Write("agreements.yaml", "agreements:\n  - id: [unclosed\n");

        var problems = temp.LoadFails().Problems.Select(p => p.ToString()).ToList();

        Assert.Matches(@"^agreements\.yaml:\d+: invalid YAML: ", problems[0]);
        Assert.Equal(["partners.yaml:5: duplicate key 'kind'", "partners.yaml:12: duplicate key 'kind'"], problems.Skip(1));
    }

    [Fact]
    public void Reports_unknown_vocabulary_values_in_every_list()
    {
        var agreement = PolicyYaml.Agreement("A-1")
            .Replace("lawfulBases: [\"DPA2018-Part3:s35(2)(b)\"]", "lawfulBases: [\"GDPR:Art6\"]\n    statutoryGateways: [\"CDA1998:s999\"]\n    sensitiveConditions: [para9]", StringComparison.Ordinal)
            .Replace("dataCategories: [personal, criminal-offence]", "dataCategories: [personal, personal, biometric]", StringComparison.Ordinal)
            .Replace("needsApproval: []", "needsApproval: [everything]", StringComparison.Ordinal)
            .Replace("withheldFields: []", "withheldFields: [name]", StringComparison.Ordinal)
            .Replace("onwardSharing: true", "onwardSharing: maybe", StringComparison.Ordinal);
        using var temp = new TempPolicies()
            .Write("partners.yaml", Partners.Replace("kind: police-force", "kind: army", StringComparison.Ordinal))
            .Write("agreements.yaml", PolicyYaml.Agreements(agreement.Replace("retentionDays: ", "", StringComparison.Ordinal)));

        var messages = temp.LoadFails().Problems.Select(p => p.Message).ToList();

        Assert.Equal(
            [
                "unknown lawful basis 'GDPR:Art6'", "unknown statutory gateway 'CDA1998:s999'", "unknown sensitive condition 'para9'",
                "data category 'personal' is listed twice", "unknown data category 'biometric'", "unknown approval case 'everything'",
                "unknown withheld field 'name'", "'onwardSharing' must be true or false", "unknown partner kind 'army'", "unknown partner kind 'army'",
            ],
            messages);
    }

    [Fact]
    public void Reports_a_bad_endpoint_and_a_bad_retention()
    {
        using var temp = new TempPolicies()
            .Write("partners.yaml", Partners.Replace("    delivery: pull\n", "    delivery: push\n    endpoint: http://insecure.example/hook\n", StringComparison.Ordinal))
            .Write("agreements.yaml", PolicyYaml.Agreements(PolicyYaml.Agreement("A-1", retention: "0"), PolicyYaml.Agreement("A-2", retention: "a year")));

        var messages = temp.LoadFails().Problems.Select(p => p.Message).ToList();

        Assert.Equal(
            [
                "retentionDays must be a positive number of days (leave it out for no limit)",
                "'retentionDays' must be a whole number",
                "endpoint 'http://insecure.example/hook' must be an absolute https URL",
                "endpoint 'http://insecure.example/hook' must be an absolute https URL",
            ],
            messages);
    }

    [Fact]
    public void Reports_an_empty_policies_directory()
    {
        using var temp = new TempPolicies();

        Assert.Equal(".:0: no policy files (*.yaml) found", Assert.Single(temp.LoadFails().Problems).ToString());
    }

    [Fact]
    public void Throws_directory_not_found_for_a_missing_directory()
    {
        Assert.Throws<DirectoryNotFoundException>(() => PolicySet.Load(Path.Combine(Path.GetTempPath(), "toex-no-such-" + Guid.NewGuid().ToString("N"))));
    }

    [Fact]
    public void Reads_agreements_split_across_files()
    {
        using var temp = new TempPolicies()
            .Write("partners.yaml", Partners)
            .Write("agreements/one.yaml", PolicyYaml.Agreements(PolicyYaml.Agreement("A-1")))
            .Write("agreements/two.yaml", PolicyYaml.Agreements(PolicyYaml.Agreement("A-2")));

        Assert.Equal(["A-1", "A-2"], temp.Load().AgreementsBetween("x", "y").Select(a => a.Id));
    }

    [Fact]
    public void Version_is_the_same_for_the_same_files()
    {
        using var one = TempPolicies.CopyOfShipped();
        using var two = TempPolicies.CopyOfShipped();

        Assert.Equal(one.Load().Version, two.Load().Version);
        Assert.Equal(PolicySet.Load(PolicyPaths.FindDefault()).Version, one.Load().Version);
    }

    [Fact]
    public void Version_changes_when_a_file_changes()
    {
        using var temp = TempPolicies.CopyOfShipped();
        var before = temp.Load().Version;

        File.AppendAllText(Path.Combine(temp.Path, "partners.yaml"), "# a comment is a change too\n");

        Assert.NotEqual(before, temp.Load().Version);
    }

    [Fact]
    public void Version_changes_when_a_file_is_renamed()
    {
        using var temp = new TempPolicies()
            .Write("partners.yaml", Partners)
            .Write("agreements.yaml", PolicyYaml.Agreements(PolicyYaml.Agreement("A-1")));
        var before = temp.Load().Version;

        File.Move(Path.Combine(temp.Path, "agreements.yaml"), Path.Combine(temp.Path, "dsa.yaml"));

        Assert.NotEqual(before, temp.Load().Version);
    }

    [Fact]
    public void Version_ignores_the_test_cases()
    {
        using var temp = TempPolicies.CopyOfShipped();
        var before = temp.Load().Version;

        temp.Write("tests/extra.yaml", "cases: []\n");

        Assert.Equal(before, temp.Load().Version);
    }

    [Fact]
    public void Finds_the_repository_policies_folder()
    {
        var policies = PolicyPaths.FindDefault();

        Assert.True(File.Exists(Path.Combine(policies, "..", PolicyPaths.SolutionFile)));
        Assert.True(File.Exists(Path.Combine(policies, "agreements.yaml")));
        Assert.Matches(new Regex("policies$"), policies);
    }
}
