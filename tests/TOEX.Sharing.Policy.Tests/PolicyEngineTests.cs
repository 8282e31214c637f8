using TOEX.Sharing.Contracts;
using static TOEX.Sharing.Policy.Tests.Shipped;

namespace TOEX.Sharing.Policy.Tests;

public sealed class PolicyEngineTests
{
    private const string Feb2026 = "2026-02-16T10:00:00Z";

    private static readonly string[] NonCompetentFields =
        ["sourceEvaluation", "intelligenceAssessment", "sourceDetails", "moRiLE", "subjects.identifiers"];

    [Fact]
    public void Permits_the_domain_example_for_the_council_with_every_obligation()
    {
        var document = Engine.Decide(Packages.DomainExample, Instant("2026-11-25T12:00:00Z"));

        var council = document.Decisions[0];
        Assert.Equal("bcc-childrens", council.Recipient);
        Assert.Equal(Outcomes.Permit, council.Outcome);
        Assert.Equal("ISA-BCC-003", council.Agreement);
        Assert.Empty(council.Reasons);
        Assert.Equal(["sanitise", "attach-conditions", "acknowledge", "retain-until", "no-onward-sharing"], Types(council));
        Assert.Equal(NonCompetentFields, council.Obligations[0].Fields);
        Assert.Equal(Packages.DomainExample.HandlingConditions, council.Obligations[1].Conditions);
        Assert.Equal(new DateOnly(2027, 11, 25), council.Obligations[3].Date);
    }

    [Fact]
    public void Denies_the_domain_example_to_the_police_for_purpose_and_gateway_with_review_advice()
    {
        var document = Engine.Decide(Packages.DomainExample, Instant("2026-11-25T12:00:00Z"));

        var police = document.Decisions[1];
        Assert.Equal("wmp", police.Recipient);
        Assert.Equal(Outcomes.Deny, police.Outcome);
        Assert.Equal("DSA-POLICE-001", police.Agreement);
        Assert.Equal(["PURPOSE_NOT_PERMITTED", "GATEWAY_NOT_PERMITTED", "ADVICE_REVIEW_OVERDUE"], Codes(police));
        Assert.Equal(["DSA-POLICE-001 §3.1", "DSA-POLICE-001 §3.3", "DSA-POLICE-001 §10.2"], police.Reasons.Select(r => r.Clause));
        Assert.Empty(police.Obligations);
    }

    [Fact]
    public void Decides_recipients_in_package_order_under_the_policy_version()
    {
        var facts = Packages.LawEnforcement with { Recipients = ["staffs", "nowhere", "wmp", "rocu-wm"] };

        var document = Engine.Decide(facts, Instant(Feb2026));

        Assert.Equal(Set.Version, document.PolicyVersion);
        Assert.Equal(["staffs", "nowhere", "wmp", "rocu-wm"], document.Decisions.Select(d => d.Recipient));
    }

    [Fact]
    public void Denies_an_unknown_partner_with_that_reason_alone()
    {
        var decision = Decide(Packages.LawEnforcement with { Recipients = ["north-pole"], Classification = "SECRET" }, Feb2026);

        Assert.Equal(Outcomes.Deny, decision.Outcome);
        Assert.Null(decision.Agreement);
        var reason = Assert.Single(decision.Reasons);
        Assert.Equal("UNKNOWN_PARTNER", reason.Code);
        Assert.Null(reason.Clause);
        Assert.DoesNotContain("north-pole", reason.Message, StringComparison.Ordinal);
        Assert.Empty(decision.Obligations);
    }

    [Fact]
    public void Denies_when_no_agreement_names_the_originator_and_recipient_with_that_reason_alone()
    {
        var decision = Decide(Packages.LawEnforcement with { Originator = "wmp", Recipients = ["nca"], OriginatorConsentRequired = true }, Feb2026);

        Assert.Equal(Outcomes.Deny, decision.Outcome);
        Assert.Null(decision.Agreement);
        var reason = Assert.Single(decision.Reasons);
        Assert.Equal(("NO_AGREEMENT", null), (reason.Code, reason.Clause));
    }

    [Fact]
    public void Denies_when_agreement_suspended()
    {
        var decision = Decide(Packages.LawEnforcement with { Recipients = ["border-force-mids"] }, Feb2026);

        Assert.Equal(Outcomes.Deny, decision.Outcome);
        Assert.Equal("DSA-BF-005", decision.Agreement);
        Assert.Equal(new Reason("AGREEMENT_NOT_IN_FORCE", "DSA-BF-005 §10.1", "The agreement is suspended, not active."), Assert.Single(decision.Reasons));
    }

    [Theory]
    [InlineData("draft")]
    [InlineData("terminated")]
    public void Denies_when_agreement_is_not_active(string status)
    {
        using var temp = new TempPolicies()
            .Write("partners.yaml", PolicyYaml.Partners(PolicyYaml.Partner("x"), PolicyYaml.Partner("y")))
            .Write("agreements.yaml", PolicyYaml.Agreements(PolicyYaml.Agreement("A-1", status: status)));

        var decision = Decide(new PolicyEngine(temp.Load()), PolicyYaml.XToY, Feb2026);

        Assert.Equal(["AGREEMENT_NOT_IN_FORCE"], Codes(decision));
    }

    [Fact]
    public void Denies_when_agreement_expired()
    {
        var facts = Packages.SafeguardingAdults with { Recipients = ["bsol-nhs-safeguarding"] };

        var decision = Decide(facts, "2026-07-01T00:00:00Z");

        Assert.Equal(Outcomes.Deny, decision.Outcome);
        Assert.Equal(["AGREEMENT_NOT_IN_FORCE", "ADVICE_REVIEW_OVERDUE"], Codes(decision));
        Assert.Equal("The agreement ended on 2026-06-30.", decision.Reasons[0].Message);
    }

    [Fact]
    public void Denies_when_purpose_not_permitted()
    {
        var decision = Decide(Packages.LawEnforcement with { Purpose = "safeguarding-adults" }, Feb2026);

        Assert.Equal(new Reason("PURPOSE_NOT_PERMITTED", "DSA-POLICE-001 §3.1", "The agreement does not permit the purpose 'safeguarding-adults'."), Assert.Single(decision.Reasons));
        Assert.Equal(Outcomes.Deny, decision.Outcome);
    }

    [Fact]
    public void Denies_when_lawful_basis_not_permitted()
    {
        var decision = Decide(Packages.LawEnforcement with { LawfulBasis = "UKGDPR:Art6(1)(c)" }, Feb2026);

        Assert.Equal(Outcomes.Deny, decision.Outcome);
        Assert.Equal(("LAWFUL_BASIS_NOT_PERMITTED", "DSA-POLICE-001 §3.2"), (decision.Reasons[0].Code, decision.Reasons[0].Clause));
        Assert.Single(decision.Reasons);
    }

    [Fact]
    public void Denies_when_a_statutory_gateway_not_permitted()
    {
        var facts = Packages.SafeguardingChildren with { StatutoryGateways = ["CA2004:s11", "CCA2013:Sch7"] };

        var decision = Decide(facts, Feb2026);

        Assert.Equal(Outcomes.Deny, decision.Outcome);
        var reason = Assert.Single(decision.Reasons);
        Assert.Equal(("GATEWAY_NOT_PERMITTED", "ISA-BCC-003 §3.3"), (reason.Code, reason.Clause));
        Assert.Contains("'CCA2013:Sch7'", reason.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("CA2004", reason.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Denies_when_a_data_category_not_permitted()
    {
        var decision = Decide(Packages.LawEnforcement with { DataCategories = ["personal", "children"], Recipients = ["nca"] }, Feb2026);

        Assert.Equal(Outcomes.Deny, decision.Outcome);
        Assert.Equal(new Reason("DATA_CATEGORY_NOT_PERMITTED", "DSA-NCA-002 §4.1", "The agreement does not cover the data category 'children'."), Assert.Single(decision.Reasons));
    }

    [Fact]
    public void Denies_when_an_undeclared_subject_under_18_implies_children_the_agreement_does_not_cover()
    {
        var facts = Packages.LawEnforcement with { MinorUntil = PackageFacts.MinorUntilOf([Packages.Adult, null, new DateOnly(2012, 4, 2)]), Recipients = ["nca"] };

        var decision = Decide(facts, Feb2026);

        Assert.Equal(Outcomes.Deny, decision.Outcome);
        var reason = Assert.Single(decision.Reasons);
        Assert.Equal("DATA_CATEGORY_NOT_PERMITTED", reason.Code);
        Assert.Equal("The agreement does not cover the data category 'children' (a subject is under 18).", reason.Message);
        Assert.DoesNotContain("2012", reason.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Denies_special_category_without_a_sensitive_condition()
    {
        var decision = Decide(Packages.LawEnforcement with { DataCategories = ["personal", "special-category"] }, Feb2026);

        Assert.Equal(Outcomes.Deny, decision.Outcome);
        Assert.Equal(("SENSITIVE_CONDITION_MISSING", "DSA-POLICE-001 §4.2"), (Assert.Single(decision.Reasons).Code, decision.Reasons[0].Clause));
    }

    [Fact]
    public void Denies_when_the_sensitive_condition_not_permitted()
    {
        var facts = Packages.LawEnforcement with
        {
            DataCategories = ["personal", "special-category"],
            SensitiveCondition = "DPA2018-Sch8:para4",
            Recipients = ["nca"],
        };

        var decision = Decide(facts, Feb2026);

        Assert.Equal(Outcomes.Deny, decision.Outcome);
        Assert.Equal(("SENSITIVE_CONDITION_NOT_PERMITTED", "DSA-NCA-002 §4.2"), (Assert.Single(decision.Reasons).Code, decision.Reasons[0].Clause));
    }

    [Fact]
    public void Permits_special_category_with_a_permitted_condition_where_no_approval_is_needed()
    {
        var facts = Packages.LawEnforcement with { DataCategories = ["personal", "special-category"], SensitiveCondition = "DPA2018-Sch8:para1" };

        var decision = Decide(facts, Feb2026);

        Assert.Equal(Outcomes.Permit, decision.Outcome);
        Assert.Empty(decision.Reasons);
    }

    [Fact]
    public void Denies_handling_conditions_when_the_agreement_does_not_accept_them()
    {
        var facts = Packages.SafeguardingAdults with { HandlingCode = "C", HandlingConditions = ["Consult the originator before action"] };

        var decision = Decide(facts, Feb2026);

        Assert.Equal(Outcomes.Deny, decision.Outcome);
        Assert.Equal(("CONDITIONS_NOT_ACCEPTED", "ISA-SH-006 §5.2"), (Assert.Single(decision.Reasons).Code, decision.Reasons[0].Clause));
        Assert.Empty(decision.Obligations);
    }

    [Fact]
    public void Refers_special_category_where_the_agreement_needs_approval_and_shows_the_obligations()
    {
        var facts = Packages.SafeguardingChildren with
        {
            DataCategories = ["personal", "special-category"],
            SensitiveCondition = "UKGDPR:Art9(2)(g)+DPA2018-Sch1:para18",
        };

        var decision = Decide(facts, Feb2026);

        Assert.Equal(Outcomes.Refer, decision.Outcome);
        Assert.Equal(("REFER_SPECIAL_CATEGORY", "ISA-BCC-003 §7"), (Assert.Single(decision.Reasons).Code, decision.Reasons[0].Clause));
        Assert.Equal(["sanitise", "retain-until", "no-onward-sharing"], Types(decision));
        Assert.Equal(new DateOnly(2027, 2, 16), decision.Obligations[1].Date);
    }

    [Fact]
    public void Refers_children_where_the_agreement_needs_approval()
    {
        var facts = Packages.SafeguardingChildren with { DataCategories = ["personal", "children"], Recipients = ["bsol-nhs-safeguarding"] };

        var decision = Decide(facts, Feb2026);

        Assert.Equal(Outcomes.Refer, decision.Outcome);
        Assert.Equal(("REFER_CHILDREN", "ISA-NHS-004 §7"), (Assert.Single(decision.Reasons).Code, decision.Reasons[0].Clause));
    }

    [Fact]
    public void Refers_an_undeclared_subject_under_18_where_the_agreement_needs_approval_for_children()
    {
        var facts = Packages.SafeguardingChildren with { MinorUntil = PackageFacts.MinorUntilOf([new DateOnly(2011, 9, 9)]), Recipients = ["bsol-nhs-safeguarding"] };

        var decision = Decide(facts, Feb2026);

        Assert.Equal(["REFER_CHILDREN"], Codes(decision));
    }

    [Fact]
    public void Permits_children_where_the_agreement_does_not_list_them_for_approval()
    {
        var facts = Packages.SafeguardingChildren with { DataCategories = ["personal", "children"], MinorUntil = PackageFacts.MinorUntilOf([new DateOnly(2011, 9, 9)]) };

        var decision = Decide(facts, Feb2026);

        Assert.Equal(Outcomes.Permit, decision.Outcome);
        Assert.Empty(decision.Reasons);
    }

    [Theory]
    [InlineData("3", "A")]
    [InlineData("1", "E")]
    [InlineData("3", "E")]
    public void Refers_low_reliability_to_a_recipient_that_is_not_a_competent_authority(string source, string assessment)
    {
        var decision = Decide(Packages.SafeguardingAdults with { SourceEvaluation = source, IntelligenceAssessment = assessment }, Feb2026);

        Assert.Equal(Outcomes.Refer, decision.Outcome);
        Assert.Equal(("REFER_LOW_RELIABILITY", "ISA-SH-006 §7"), (Assert.Single(decision.Reasons).Code, decision.Reasons[0].Clause));
    }

    [Theory]
    [InlineData("2", "D")]
    [InlineData("1", "C")]
    public void Permits_grading_that_is_not_low_reliability(string source, string assessment)
    {
        var decision = Decide(Packages.SafeguardingAdults with { SourceEvaluation = source, IntelligenceAssessment = assessment }, Feb2026);

        Assert.Equal(Outcomes.Permit, decision.Outcome);
    }

    [Fact]
    public void Permits_low_reliability_to_a_competent_authority()
    {
        var decision = Decide(Packages.LawEnforcement with { SourceEvaluation = "3", IntelligenceAssessment = "E" }, Feb2026);

        Assert.Equal(Outcomes.Permit, decision.Outcome);
        Assert.Empty(decision.Reasons);
    }

    [Fact]
    public void Refers_whenever_the_originator_must_consent_to_onward_disclosure()
    {
        var decision = Decide(Packages.LawEnforcement with { OriginatorConsentRequired = true }, Feb2026);

        Assert.Equal(Outcomes.Refer, decision.Outcome);
        Assert.Equal(("REFER_ORIGINATOR_CONSENT", "DSA-POLICE-001 §7"), (Assert.Single(decision.Reasons).Code, decision.Reasons[0].Clause));
        Assert.Empty(decision.Obligations);
    }

    [Fact]
    public void Advises_review_overdue_without_changing_the_outcome()
    {
        var decision = Decide(Packages.LawEnforcement with { Recipients = ["nca"] }, "2026-12-02T00:00:00Z");

        Assert.Equal(Outcomes.Permit, decision.Outcome);
        Assert.Equal(new Reason("ADVICE_REVIEW_OVERDUE", "DSA-NCA-002 §10.2", "The agreement was due for review on 2026-12-01."), Assert.Single(decision.Reasons));
    }

    [Fact]
    public void Lists_every_finding_deny_codes_then_refer_codes_then_advice_in_table_order()
    {
        var facts = new PackageFacts
        {
            Originator = "rocu-wm",
            Classification = "OFFICIAL-SENSITIVE",
            HandlingCode = "C",
            HandlingConditions = ["Consult the originator before action"],
            SourceEvaluation = "3",
            IntelligenceAssessment = "E",
            Purpose = "law-enforcement",
            LawfulBasis = "DPA2018-Part3:s35(2)(b)",
            StatutoryGateways = ["CCA2013:Sch7"],
            DataCategories = ["personal", "special-category", "criminal-offence"],
            SensitiveCondition = "DPA2018-Sch8:para1",
            OriginatorConsentRequired = true,
            MinorUntil = PackageFacts.MinorUntilOf([new DateOnly(2012, 1, 1)]),
            Recipients = ["bsol-nhs-safeguarding"],
        };

        var decision = Decide(facts, "2026-07-01T12:00:00Z");

        Assert.Equal(Outcomes.Deny, decision.Outcome);
        Assert.Equal(
            [
                "AGREEMENT_NOT_IN_FORCE", "PURPOSE_NOT_PERMITTED", "LAWFUL_BASIS_NOT_PERMITTED", "GATEWAY_NOT_PERMITTED",
                "DATA_CATEGORY_NOT_PERMITTED", "SENSITIVE_CONDITION_NOT_PERMITTED", "CONDITIONS_NOT_ACCEPTED",
                "REFER_CHILDREN", "REFER_LOW_RELIABILITY", "REFER_ORIGINATOR_CONSENT", "ADVICE_REVIEW_OVERDUE",
            ],
            Codes(decision));
        Assert.All(decision.Reasons, r => Assert.StartsWith("ISA-NHS-004 §", r.Clause, StringComparison.Ordinal));
        Assert.Empty(decision.Obligations);
    }

    [Fact]
    public void Refer_lists_every_refer_finding_and_keeps_the_obligations()
    {
        var facts = Packages.SafeguardingChildren with
        {
            DataCategories = ["personal", "special-category"],
            SensitiveCondition = "UKGDPR:Art9(2)(g)+DPA2018-Sch1:para18",
            SourceEvaluation = "3",
            OriginatorConsentRequired = true,
            HandlingCode = "C",
            HandlingConditions = ["Do not disclose to the subject"],
        };

        var decision = Decide(facts, "2027-01-02T00:00:00Z");

        Assert.Equal(Outcomes.Refer, decision.Outcome);
        Assert.Equal(["REFER_SPECIAL_CATEGORY", "REFER_LOW_RELIABILITY", "REFER_ORIGINATOR_CONSENT", "ADVICE_REVIEW_OVERDUE"], Codes(decision));
        Assert.Equal(["sanitise", "attach-conditions", "acknowledge", "retain-until", "no-onward-sharing"], Types(decision));
    }

    [Fact]
    public void Omits_the_sanitise_obligation_for_a_competent_authority_when_the_agreement_withholds_nothing()
    {
        var decision = Decide(Packages.LawEnforcement with { HandlingCode = "C", HandlingConditions = ["Consult the originator before action"] }, Feb2026);

        Assert.Equal(["attach-conditions", "acknowledge"], Types(decision));
        Assert.Null(decision.Obligations[0].Fields);
        Assert.Null(decision.Obligations[1].Conditions);
    }

    [Fact]
    public void Sanitises_for_a_competent_authority_the_fields_its_agreement_withholds()
    {
        using var temp = new TempPolicies()
            .Write("partners.yaml", PolicyYaml.Partners(PolicyYaml.Partner("x"), PolicyYaml.Partner("y")))
            .Write("agreements.yaml", PolicyYaml.Agreements(PolicyYaml.Agreement("A-1", withheldFields: "[body, sourceDetails]")));

        var decision = Decide(new PolicyEngine(temp.Load()), PolicyYaml.XToY, Feb2026);

        Assert.Equal(Outcomes.Permit, decision.Outcome);
        var sanitise = Assert.Single(decision.Obligations);
        Assert.Equal("sanitise", sanitise.Type);
        Assert.Equal(["sourceDetails", "body"], sanitise.Fields);
    }

    [Fact]
    public void Sanitises_for_a_recipient_that_is_not_competent_the_union_in_a_stable_order()
    {
        using var temp = new TempPolicies()
            .Write("partners.yaml", PolicyYaml.Partners(PolicyYaml.Partner("x"), PolicyYaml.Partner("y", competent: false)))
            .Write("agreements.yaml", PolicyYaml.Agreements(PolicyYaml.Agreement("A-1", withheldFields: "[reviewDate, moRiLE, subjects.dateOfBirth]", retention: "30", onwardSharing: "false")));

        var decision = Decide(new PolicyEngine(temp.Load()), PolicyYaml.XToY, "2026-12-15T10:00:00Z");

        Assert.Equal(["sanitise", "retain-until", "no-onward-sharing"], Types(decision));
        Assert.Equal(
            ["sourceEvaluation", "intelligenceAssessment", "sourceDetails", "moRiLE", "subjects.identifiers", "subjects.dateOfBirth", "reviewDate"],
            decision.Obligations[0].Fields);
        Assert.Equal(new DateOnly(2027, 1, 14), decision.Obligations[1].Date);
    }

    [Fact]
    public void Withholdable_fields_start_with_those_withheld_from_every_recipient_that_is_not_competent()
    {
        Assert.Equal(Vocabulary.NonCompetentWithheldFields, PolicyVocabulary.WithholdableFields.Take(Vocabulary.NonCompetentWithheldFields.Count));
    }

    [Fact]
    public void Every_reason_of_an_agreement_carries_one_of_its_clauses()
    {
        var facts = Packages.DomainExample with
        {
            Recipients = [.. Set.Partners.Keys],
            SourceEvaluation = "3",
            OriginatorConsentRequired = true,
            DataCategories = ["personal", "special-category", "children"],
        };

        var decisions = Engine.Decide(facts, Instant("2027-06-15T00:00:00Z")).Decisions;

        var reasons = decisions.Where(d => d.Agreement is not null).SelectMany(d => d.Reasons.Select(r => (d.Agreement, r))).ToList();
        Assert.NotEmpty(reasons);
        Assert.All(reasons, x => Assert.Contains(x.r.Clause, Set.Agreements[x.Agreement!].Clauses.Values));
    }

    [Fact]
    public void Never_echoes_an_unrecognised_value_in_a_message()
    {
        var facts = Packages.LawEnforcement with
        {
            Purpose = "Jane Example of 1 High Street",
            LawfulBasis = "Jane Example",
            StatutoryGateways = ["Jane Example"],
            DataCategories = ["Jane Example"],
            SensitiveCondition = "Jane Example",
            Classification = "Jane Example",
        };

        var decision = Decide(facts, Feb2026);

        Assert.Equal(Outcomes.Deny, decision.Outcome);
        Assert.Equal(6, decision.Reasons.Count);
        Assert.All(decision.Reasons, r => Assert.DoesNotContain("Jane", r.Message, StringComparison.Ordinal));
    }

    [Fact]
    public void Denies_an_unrecognised_classification_as_above_every_ceiling()
    {
        var decision = Decide(Packages.LawEnforcement with { Classification = "RESTRICTED" }, Feb2026);

        Assert.Equal(Outcomes.Deny, decision.Outcome);
        Assert.Equal(["CLASSIFICATION_ABOVE_CEILING"], Codes(decision));
    }

    [Fact]
    public void Gives_the_same_decision_for_the_same_facts_and_instant()
    {
        var first = ToexJson.Serialize(Engine.Decide(Packages.DomainExample, Instant("2026-11-25T12:00:00Z")));
        var second = ToexJson.Serialize(new PolicyEngine(Set).Decide(Packages.DomainExample, Instant("2026-11-25T12:00:00Z")));

        Assert.Equal(first, second);
    }

    [Fact]
    public void Serialises_to_the_decision_shape_of_the_api()
    {
        var json = ToexJson.Serialize(Engine.Decide(Packages.DomainExample, Instant("2026-11-25T12:00:00Z")));

        Assert.StartsWith("""{"policyVersion":"sha256:""", json, StringComparison.Ordinal);
        Assert.Contains("""{"recipient":"bcc-childrens","outcome":"permit","agreement":"ISA-BCC-003","reasons":[],"obligations":[{"type":"sanitise","fields":[""", json, StringComparison.Ordinal);
        Assert.Contains("""{"type":"retain-until","date":"2027-11-25"}""", json, StringComparison.Ordinal);
        Assert.Contains("""{"code":"PURPOSE_NOT_PERMITTED","clause":"DSA-POLICE-001 §3.1","message":""", json, StringComparison.Ordinal);
    }
}
