using TOEX.Sharing.Contracts;
using static TOEX.Sharing.Policy.Tests.Shipped;

namespace TOEX.Sharing.Policy.Tests;

/// <summary>Several agreements naming the same originator and recipient: the most permissive outcome wins, a tie goes to the id sorting first.</summary>
public sealed class SeveralAgreementsTests
{
    private const string Feb2026 = "2026-02-16T10:00:00Z";

    private static PolicyEngine EngineWith(params string[] agreements)
    {
        using var temp = new TempPolicies()
            .Write("partners.yaml", PolicyYaml.Partners(PolicyYaml.Partner("x"), PolicyYaml.Partner("y", competent: false)))
            .Write("agreements.yaml", PolicyYaml.Agreements(agreements));
        return new PolicyEngine(temp.Load());
    }

    [Fact]
    public void Permit_under_one_agreement_beats_deny_under_another()
    {
        var engine = EngineWith(
            PolicyYaml.Agreement("A-DENIES", purposes: "[safeguarding-adults]"),
            PolicyYaml.Agreement("B-PERMITS", retention: "30"));

        var decision = Decide(engine, PolicyYaml.XToY, Feb2026);

        Assert.Equal(Outcomes.Permit, decision.Outcome);
        Assert.Equal("B-PERMITS", decision.Agreement);
        Assert.Empty(decision.Reasons);
        Assert.Equal(["sanitise", "retain-until"], Types(decision));
    }

    [Fact]
    public void Refer_under_one_agreement_beats_deny_under_another()
    {
        var engine = EngineWith(
            PolicyYaml.Agreement("A-DENIES", status: "suspended"),
            PolicyYaml.Agreement("B-REFERS"));

        var decision = Decide(engine, PolicyYaml.XToY with { SourceEvaluation = "3" }, Feb2026);

        Assert.Equal(Outcomes.Refer, decision.Outcome);
        Assert.Equal("B-REFERS", decision.Agreement);
        Assert.Equal(["REFER_LOW_RELIABILITY"], Codes(decision));
        Assert.Equal("B-REFERS §9", decision.Reasons[0].Clause);
    }

    [Fact]
    public void Permit_beats_refer()
    {
        const string WithChildren = "[personal, criminal-offence, children]";
        var engine = EngineWith(
            PolicyYaml.Agreement("A-REFERS", needsApproval: "[children]", dataCategories: WithChildren),
            PolicyYaml.Agreement("B-PERMITS", dataCategories: WithChildren));

        var decision = Decide(engine, PolicyYaml.XToY with { MinorUntil = PackageFacts.MinorUntilOf([new DateOnly(2015, 5, 5)]) }, Feb2026);

        Assert.Equal(Outcomes.Permit, decision.Outcome);
        Assert.Equal("B-PERMITS", decision.Agreement);
    }

    [Fact]
    public void A_tie_goes_to_the_agreement_id_sorting_first_whatever_the_file_order()
    {
        var engine = EngineWith(
            PolicyYaml.Agreement("DSA-B", retention: "10"),
            PolicyYaml.Agreement("DSA-A", retention: "20"),
            PolicyYaml.Agreement("DSA-C", retention: "30"));

        var decision = Decide(engine, PolicyYaml.XToY, Feb2026);

        Assert.Equal("DSA-A", decision.Agreement);
        Assert.Equal(new DateOnly(2026, 3, 8), decision.Obligations[1].Date);
    }

    [Fact]
    public void A_tie_of_denials_gives_the_reasons_of_the_agreement_sorting_first()
    {
        var engine = EngineWith(
            PolicyYaml.Agreement("DSA-B", purposes: "[safeguarding-adults]"),
            PolicyYaml.Agreement("DSA-A", status: "draft"));

        var decision = Decide(engine, PolicyYaml.XToY, Feb2026);

        Assert.Equal(Outcomes.Deny, decision.Outcome);
        Assert.Equal("DSA-A", decision.Agreement);
        Assert.Equal(["AGREEMENT_NOT_IN_FORCE"], Codes(decision));
        Assert.Empty(decision.Obligations);
    }

    [Fact]
    public void Ids_sort_ordinally_so_upper_case_sorts_before_lower_case()
    {
        var engine = EngineWith(
            PolicyYaml.Agreement("dsa-a"),
            PolicyYaml.Agreement("DSA-Z"));

        Assert.Equal("DSA-Z", Decide(engine, PolicyYaml.XToY, Feb2026).Agreement);
    }

    [Fact]
    public void Only_agreements_naming_both_parties_are_considered()
    {
        var engine = EngineWith(
            PolicyYaml.Agreement("A-OTHER-WAY", originators: "[y]", recipients: "[x]"),
            PolicyYaml.Agreement("B-THIS-WAY", purposes: "[safeguarding-adults]"));

        var decision = Decide(engine, PolicyYaml.XToY, Feb2026);

        Assert.Equal("B-THIS-WAY", decision.Agreement);
        Assert.Equal(["PURPOSE_NOT_PERMITTED"], Codes(decision));
    }
}
