using static TOEX.Sharing.Policy.Tests.Shipped;

namespace TOEX.Sharing.Policy.Tests;

public sealed class CeilingTests
{
    private const string Feb2026 = "2026-02-16T10:00:00Z";

    [Fact]
    public void Permits_official_to_safe_haven_whose_ceiling_is_official()
    {
        Assert.Equal(Outcomes.Permit, Decide(Packages.SafeguardingAdults, Feb2026).Outcome);
    }

    [Fact]
    public void Denies_official_sensitive_to_safe_haven_whose_ceiling_is_official()
    {
        var decision = Decide(Packages.SafeguardingAdults with { Classification = "OFFICIAL-SENSITIVE" }, Feb2026);

        Assert.Equal(Outcomes.Deny, decision.Outcome);
        var reason = Assert.Single(decision.Reasons);
        Assert.Equal(("CLASSIFICATION_ABOVE_CEILING", "ISA-SH-006 §5.1"), (reason.Code, reason.Clause));
        Assert.Equal("The classification 'OFFICIAL-SENSITIVE' is above the recipient's ceiling (OFFICIAL) and the agreement's ceiling (OFFICIAL).", reason.Message);
    }

    [Fact]
    public void Denies_above_the_partner_ceiling_even_when_the_agreement_allows_it()
    {
        using var temp = new TempPolicies()
            .Write("partners.yaml", PolicyYaml.Partners(PolicyYaml.Partner("x"), PolicyYaml.Partner("y", ceiling: "OFFICIAL")))
            .Write("agreements.yaml", PolicyYaml.Agreements(PolicyYaml.Agreement("A-1", ceiling: "OFFICIAL-SENSITIVE")));
        var engine = new PolicyEngine(temp.Load());

        var decision = Decide(engine, PolicyYaml.XToY with { Classification = "OFFICIAL-SENSITIVE" }, Feb2026);

        Assert.Equal(Outcomes.Deny, decision.Outcome);
        var reason = Assert.Single(decision.Reasons);
        Assert.Equal(("CLASSIFICATION_ABOVE_CEILING", "A-1 §7"), (reason.Code, reason.Clause));
        Assert.Equal("The classification 'OFFICIAL-SENSITIVE' is above the recipient's ceiling (OFFICIAL).", reason.Message);
        Assert.Equal(Outcomes.Permit, Decide(engine, PolicyYaml.XToY, Feb2026).Outcome);
    }

    [Fact]
    public void Denies_above_the_agreement_ceiling_even_when_the_partner_allows_it()
    {
        using var temp = new TempPolicies()
            .Write("partners.yaml", PolicyYaml.Partners(PolicyYaml.Partner("x"), PolicyYaml.Partner("y", ceiling: "OFFICIAL-SENSITIVE")))
            .Write("agreements.yaml", PolicyYaml.Agreements(PolicyYaml.Agreement("A-1", ceiling: "OFFICIAL")));
        var engine = new PolicyEngine(temp.Load());

        var decision = Decide(engine, PolicyYaml.XToY with { Classification = "OFFICIAL-SENSITIVE" }, Feb2026);

        Assert.Equal(["CLASSIFICATION_ABOVE_CEILING"], Codes(decision));
        Assert.Equal("The classification 'OFFICIAL-SENSITIVE' is above the agreement's ceiling (OFFICIAL).", decision.Reasons[0].Message);
        Assert.Equal(Outcomes.Permit, Decide(engine, PolicyYaml.XToY, Feb2026).Outcome);
    }

    [Theory]
    [InlineData("SECRET")]
    [InlineData("TOP-SECRET")]
    public void Denies_secret_and_above_even_when_every_ceiling_would_allow_it(string classification)
    {
        using var temp = new TempPolicies()
            .Write("partners.yaml", PolicyYaml.Partners(PolicyYaml.Partner("x"), PolicyYaml.Partner("y", ceiling: "TOP-SECRET")))
            .Write("agreements.yaml", PolicyYaml.Agreements(PolicyYaml.Agreement("A-1", ceiling: "TOP-SECRET")));

        var decision = Decide(new PolicyEngine(temp.Load()), PolicyYaml.XToY with { Classification = classification }, Feb2026);

        Assert.Equal(Outcomes.Deny, decision.Outcome);
        Assert.Equal(["CLASSIFICATION_ABOVE_CEILING"], Codes(decision));
        Assert.Contains("never leaves through this system", decision.Reasons[0].Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("SECRET")]
    [InlineData("TOP-SECRET")]
    public void Denies_secret_and_above_to_every_shipped_partner(string classification)
    {
        var facts = Packages.DomainExample with { Classification = classification, Recipients = [.. Set.Partners.Keys] };

        var decisions = Engine.Decide(facts, Instant(Feb2026)).Decisions;

        Assert.All(decisions, d => Assert.Equal(Outcomes.Deny, d.Outcome));
        Assert.All(decisions.Where(d => d.Agreement is not null), d => Assert.Contains("CLASSIFICATION_ABOVE_CEILING", Codes(d)));
    }

    [Theory]
    [InlineData("OFFICIAL")]
    [InlineData("OFFICIAL-SENSITIVE")]
    public void Permits_up_to_official_sensitive_between_police_forces(string classification)
    {
        Assert.Equal(Outcomes.Permit, Decide(Packages.LawEnforcement with { Classification = classification }, Feb2026).Outcome);
    }
}
