using TOEX.Sharing.Contracts;
using static TOEX.Sharing.Policy.Tests.Shipped;

namespace TOEX.Sharing.Policy.Tests;

/// <summary>DSA-POLICE-001: valid 2025-04-01..2027-03-31, review due 2026-10-01; ISA-NHS-004 refers children.</summary>
public sealed class DateRuleTests
{
    [Theory]
    [InlineData("2025-04-01T00:00:00Z")]
    [InlineData("2025-04-01T00:00:00.0000000+00:00")]
    [InlineData("2025-03-31T20:00:00-04:00")]
    public void Permits_from_the_first_instant_of_valid_from(string at)
    {
        Assert.Equal(Outcomes.Permit, Decide(Packages.LawEnforcement, at).Outcome);
    }

    [Theory]
    [InlineData("2025-03-31T23:59:59Z")]
    [InlineData("2025-04-01T00:59:59+01:00")]
    public void Denies_one_second_before_valid_from(string at)
    {
        var decision = Decide(Packages.LawEnforcement, at);

        Assert.Equal(Outcomes.Deny, decision.Outcome);
        Assert.Equal(new Reason("AGREEMENT_NOT_IN_FORCE", "DSA-POLICE-001 §10.1", "The agreement is not in force until 2025-04-01."), Assert.Single(decision.Reasons));
    }

    [Fact]
    public void Permits_until_the_last_second_of_valid_to()
    {
        var decision = Decide(Packages.LawEnforcement, "2027-03-31T23:59:59Z");

        Assert.Equal(Outcomes.Permit, decision.Outcome);
        Assert.Equal(["ADVICE_REVIEW_OVERDUE"], Codes(decision));
    }

    [Fact]
    public void Permits_until_the_last_tick_of_valid_to()
    {
        var lastTick = new DateTimeOffset(2027, 3, 31, 0, 0, 0, TimeSpan.Zero).AddDays(1).AddTicks(-1);

        var decision = Assert.Single(Engine.Decide(Packages.LawEnforcement, lastTick).Decisions);

        Assert.Equal(Outcomes.Permit, decision.Outcome);
    }

    [Fact]
    public void Denies_when_agreement_expired_one_second_after_valid_to()
    {
        var decision = Decide(Packages.LawEnforcement, "2027-04-01T00:00:00Z");

        Assert.Equal(Outcomes.Deny, decision.Outcome);
        Assert.Equal(["AGREEMENT_NOT_IN_FORCE", "ADVICE_REVIEW_OVERDUE"], Codes(decision));
    }

    [Fact]
    public void Judges_validity_by_the_utc_date_of_an_instant_with_an_offset()
    {
        // 2027-03-31T23:30 in New York is already 2027-04-01 in UTC.
        Assert.Equal(Outcomes.Deny, Decide(Packages.LawEnforcement, "2027-03-31T23:30:00-04:00").Outcome);
    }

    [Theory]
    [InlineData("2026-10-01T00:00:00Z")]
    [InlineData("2026-10-01T23:59:59Z")]
    public void Does_not_advise_review_on_the_review_due_day_itself(string at)
    {
        Assert.Empty(Decide(Packages.LawEnforcement, at).Reasons);
    }

    [Fact]
    public void Advises_review_overdue_from_the_next_day()
    {
        var decision = Decide(Packages.LawEnforcement, "2026-10-02T00:00:00Z");

        Assert.Equal(Outcomes.Permit, decision.Outcome);
        Assert.Equal(["ADVICE_REVIEW_OVERDUE"], Codes(decision));
    }

    [Fact]
    public void Treats_a_subject_as_a_child_the_day_before_the_18th_birthday()
    {
        var facts = Packages.SafeguardingAdults with { MinorUntil = PackageFacts.MinorUntilOf([new DateOnly(2008, 2, 10)]), Recipients = ["bsol-nhs-safeguarding"] };

        var decision = Decide(facts, "2026-02-09T23:59:59Z");

        Assert.Equal(Outcomes.Refer, decision.Outcome);
        Assert.Equal(["REFER_CHILDREN"], Codes(decision));
    }

    [Fact]
    public void Treats_a_subject_as_18_on_the_18th_birthday()
    {
        var facts = Packages.SafeguardingAdults with { MinorUntil = PackageFacts.MinorUntilOf([new DateOnly(2008, 2, 10)]), Recipients = ["bsol-nhs-safeguarding"] };

        var decision = Decide(facts, "2026-02-10T00:00:00Z");

        Assert.Equal(Outcomes.Permit, decision.Outcome);
        Assert.Empty(decision.Reasons);
    }

    [Fact]
    public void Does_not_imply_children_for_a_competent_authority_agreement_once_the_subject_is_18()
    {
        var facts = Packages.LawEnforcement with { MinorUntil = PackageFacts.MinorUntilOf([new DateOnly(2008, 12, 1)]), Recipients = ["nca"] };

        Assert.Equal(["DATA_CATEGORY_NOT_PERMITTED"], Codes(Decide(facts, "2026-11-30T12:00:00Z")));
        Assert.Empty(Decide(facts, "2026-12-01T00:00:00Z").Reasons);
    }

    [Theory]
    [InlineData("2008-02-29", "2026-02-28", true)]
    [InlineData("2008-02-29", "2026-03-01", false)]
    [InlineData("2012-02-29", "2030-02-28", true)]
    [InlineData("2012-02-29", "2030-03-01", false)]
    [InlineData("2014-02-28", "2032-02-28", false)]
    [InlineData("2008-12-31", "2026-12-30", true)]
    [InlineData("2008-12-31", "2026-12-31", false)]
    public void Is_under_18_until_the_18th_birthday_and_29_february_turns_18_on_1_march_in_a_common_year(string born, string on, bool under18)
    {
        // 18 years after a leap year is never a leap year, so a 29 February birthday always turns 18 on 1 March.
        Assert.Equal(under18, PolicyEngine.IsUnder18(Date(born), Date(on)));
    }

    private static DateOnly Date(string text) => DateOnly.ParseExact(text, "yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture);
}
