namespace TOEX.Sharing.Policy.Tests;

public sealed class PolicyTestRunnerTests
{
    [Fact]
    public void Every_shipped_policy_test_case_passes()
    {
        var results = PolicyTestRunner.Run(PolicyPaths.FindDefault());

        var failures = results.Where(r => !r.Passed).Select(r => $"{r.Name}: {r.Failure}").ToList();
        Assert.True(failures.Count == 0, "Failing policy test cases:\n" + string.Join("\n", failures));
        Assert.True(results.Count >= 40, $"Expected the shipped cases to run, got {results.Count}.");
    }

    [Fact]
    public void Shipped_cases_cover_every_reason_code_and_obligation_type()
    {
        var text = string.Concat(Directory.EnumerateFiles(Path.Combine(PolicyPaths.FindDefault(), "tests"), "*.yaml").Select(File.ReadAllText));

        var missing = ReasonCodes.All.Concat(ObligationTypes.All).Where(name => !text.Contains(name, StringComparison.Ordinal)).ToList();
        Assert.Empty(missing);
    }

    [Fact]
    public void Reports_a_case_whose_expectation_differs_with_what_differed()
    {
        using var temp = TempPolicies.CopyOfShipped().Write("tests/wrong.yaml", """
            cases:
              - name: Expects the wrong outcome
                at: 2026-02-16T10:00:00Z
                package:
                  originator: rocu-wm
                  classification: OFFICIAL
                  handlingCode: P
                  sourceEvaluation: "1"
                  intelligenceAssessment: A
                  purpose: law-enforcement
                  lawfulBasis: "DPA2018-Part3:s35(2)(b)"
                  dataCategories: [personal]
                  recipients: [wmp]
                expect:
                  - recipient: wmp
                    outcome: deny
                    agreement: DSA-POLICE-001
                    reasons: [PURPOSE_NOT_PERMITTED]
                    obligations: [acknowledge]
            """);

        var result = Assert.Single(PolicyTestRunner.Run(temp.Path), r => r.Name == "Expects the wrong outcome");

        Assert.False(result.Passed);
        Assert.StartsWith("tests/wrong.yaml:2: ", result.Failure);
        Assert.Contains("wmp: outcome permit, expected deny", result.Failure);
        Assert.Contains("wmp: reasons [], expected [PURPOSE_NOT_PERMITTED]", result.Failure);
        Assert.Contains("wmp: obligations [], expected [acknowledge]", result.Failure);
    }

    [Fact]
    public void Reports_wrong_obligation_values_and_clauses()
    {
        using var temp = TempPolicies.CopyOfShipped().Write("tests/wrong.yaml", """
            cases:
              - name: Expects other values
                at: 2026-02-16T10:00:00Z
                package:
                  originator: rocu-wm
                  classification: OFFICIAL
                  handlingCode: P
                  sourceEvaluation: "1"
                  intelligenceAssessment: A
                  purpose: law-enforcement
                  lawfulBasis: "UKGDPR:Art6(1)(e)"
                  dataCategories: [personal]
                  recipients: [safe-haven]
                expect:
                  - recipient: safe-haven
                    outcome: deny
                    agreement: ISA-SH-006
                    reasons: [{code: PURPOSE_NOT_PERMITTED, clause: "ISA-SH-006 §9"}]
              - name: Expects another retention date
                at: 2026-02-16T10:00:00Z
                package:
                  originator: rocu-wm
                  classification: OFFICIAL
                  handlingCode: P
                  sourceEvaluation: "1"
                  intelligenceAssessment: A
                  purpose: safeguarding-adults
                  lawfulBasis: "UKGDPR:Art6(1)(e)"
                  dataCategories: [personal]
                  recipients: [safe-haven]
                expect:
                  - recipient: safe-haven
                    outcome: permit
                    agreement: ISA-SH-006
                    obligations: [{type: sanitise, fields: [body]}, {type: retain-until, date: 2027-02-17}, no-onward-sharing]
            """);

        var results = PolicyTestRunner.Run(temp.Path).Where(r => r.Name.StartsWith("Expects", StringComparison.Ordinal)).ToList();

        Assert.Equal(2, results.Count);
        Assert.All(results, r => Assert.False(r.Passed));
        Assert.Contains("PURPOSE_NOT_PERMITTED clause 'ISA-SH-006 §3.1', expected 'ISA-SH-006 §9'", results[0].Failure);
        Assert.Contains("sanitise fields [sourceEvaluation, intelligenceAssessment, sourceDetails, moRiLE, subjects.identifiers], expected [body]", results[1].Failure);
        Assert.Contains("retain-until date 2027-02-16, expected 2027-02-17", results[1].Failure);
    }

    [Fact]
    public void Reports_a_malformed_test_file_as_file_and_line_problems()
    {
        using var temp = TempPolicies.CopyOfShipped().Write("tests/broken.yaml", """
            cases:
              - name: Broken
                at: yesterday
                colour: blue
                package:
                  originator: rocu-wm
                expect:
                  - recipient: wmp
                    outcome: maybe
                    reasons: [NOT_A_CODE]
            """);

        var result = Assert.Single(PolicyTestRunner.Run(temp.Path), r => r.Name == "Broken");

        Assert.False(result.Passed);
        var lines = result.Failure!.Split('\n');
        Assert.Contains("tests/broken.yaml:3: bad instant 'yesterday' for 'at' (expected ISO-8601, e.g. 2026-11-25T12:00:00Z)", lines);
        Assert.Contains("tests/broken.yaml:4: unknown key 'colour'", lines);
        Assert.Contains("tests/broken.yaml:6: missing required key 'classification'", lines);
        Assert.Contains("tests/broken.yaml:9: unknown outcome 'maybe' (expected permit, refer or deny)", lines);
        Assert.Contains("tests/broken.yaml:10: unknown reason code 'NOT_A_CODE'", lines);
    }

    [Fact]
    public void Reports_a_test_file_that_is_not_yaml_as_a_failed_result()
    {
        using var temp = TempPolicies.CopyOfShipped().Write("tests/garbage.yaml", "cases: [unclosed\n");

        var result = Assert.Single(PolicyTestRunner.Run(temp.Path), r => r.Name == "tests/garbage.yaml");

        Assert.False(result.Passed);
        Assert.Matches(@"^tests/garbage\.yaml:\d+: invalid YAML: ", result.Failure);
    }

    [Fact]
    public void Throws_when_the_policy_set_itself_is_invalid()
    {
        using var temp = TempPolicies.CopyOfShipped().Write("extra.yaml", "partners: 3\n");

        var error = Assert.Throws<PolicyValidationException>(() => PolicyTestRunner.Run(temp.Path));

        Assert.Contains("extra.yaml:1: 'partners' must be a list", error.Message);
    }
}
