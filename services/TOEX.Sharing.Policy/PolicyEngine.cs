using TOEX.Sharing.Contracts;

namespace TOEX.Sharing.Policy;

/// <summary>
/// Decides, per recipient, whether a package may be shared under one policy set (DOMAIN.md "The decision,
/// per recipient"). Pure: the instant is a parameter, nothing is read from a clock, file or network.
/// </summary>
public sealed class PolicyEngine
{
    private const string SpecialCategory = "special-category";
    private const string Children = "children";

    private static readonly Obligation Acknowledge = new() { Type = ObligationTypes.Acknowledge };
    private static readonly Obligation NoOnwardSharing = new() { Type = ObligationTypes.NoOnwardSharing };

    // This system is accredited for OFFICIAL (including OFFICIAL-SENSITIVE) only.
    private static readonly int HighestShareableRank = Vocabulary.ClassificationRank("OFFICIAL-SENSITIVE");

    private readonly PolicySet set;

    // Per agreement: the sanitise obligation for a competent and for a non-competent recipient (null: none).
    private readonly Dictionary<string, (Obligation? Competent, Obligation? NonCompetent)> sanitise = new(StringComparer.Ordinal);
    private readonly Dictionary<string, int> partnerCeilings = new(StringComparer.Ordinal);
    private readonly Dictionary<string, int> agreementCeilings = new(StringComparer.Ordinal);

    public PolicyEngine(PolicySet set)
    {
        ArgumentNullException.ThrowIfNull(set);
        this.set = set;
        foreach (var agreement in set.Agreements.Values)
        {
            sanitise[agreement.Id] = (SanitiseObligation(agreement, competent: true), SanitiseObligation(agreement, competent: false));
            agreementCeilings[agreement.Id] = Vocabulary.ClassificationRank(agreement.Ceiling);
        }

        foreach (var partner in set.Partners.Values)
        {
            partnerCeilings[partner.Id] = Vocabulary.ClassificationRank(partner.Ceiling);
        }
    }

    public string PolicyVersion => set.Version;

    /// <summary>The decision for every recipient of <paramref name="facts"/>, in their order, at <paramref name="at"/>.</summary>
    public DecisionDocument Decide(PackageFacts facts, DateTimeOffset at)
    {
        ArgumentNullException.ThrowIfNull(facts);
        var context = new Context(facts, at);
        var decisions = new RecipientDecision[facts.Recipients.Count];
        for (var i = 0; i < decisions.Length; i++)
        {
            decisions[i] = DecideFor(facts.Recipients[i], context);
        }

        return new DecisionDocument { PolicyVersion = set.Version, Decisions = decisions };
    }

    /// <summary>
    /// True when a person born on <paramref name="dateOfBirth"/> is under 18 on <paramref name="date"/>. The 18th
    /// birthday itself is 18. Someone born on 29 February turns 18 on 1 March when that year is not a leap year.
    /// </summary>
    public static bool IsUnder18(DateOnly dateOfBirth, DateOnly date) => date < PackageFacts.EighteenthBirthday(dateOfBirth);

    private RecipientDecision DecideFor(string recipient, Context context)
    {
        if (!set.Partners.TryGetValue(recipient, out var partner))
        {
            return Alone(recipient, ReasonCodes.UnknownPartner, "The recipient is not a registered partner.");
        }

        var agreements = set.AgreementsBetween(context.Facts.Originator, recipient);
        if (agreements.Count == 0)
        {
            return Alone(recipient, ReasonCodes.NoAgreement, "No data sharing agreement covers sharing from this originator to this recipient.");
        }

        // Agreements come sorted by id, so the first with the most permissive outcome wins a tie.
        RecipientDecision? best = null;
        var bestRank = int.MaxValue;
        for (var i = 0; i < agreements.Count && bestRank > 0; i++)
        {
            var decision = Evaluate(agreements[i], partner, context);
            var rank = OutcomeRank(decision.Outcome);
            if (rank < bestRank)
            {
                best = decision;
                bestRank = rank;
            }
        }

        return best!;
    }

    private RecipientDecision Evaluate(Agreement a, Partner partner, Context c)
    {
        var f = c.Facts;
        var reasons = new List<Reason>(4);

        // Deny rules, in the order of DOMAIN.md's table.
        if (a.Status != "active")
        {
            reasons.Add(Finding(a, AgreementRules.Validity, ReasonCodes.AgreementNotInForce, $"The agreement is {a.Status}, not active."));
        }
        else if (c.Date < a.ValidFrom)
        {
            reasons.Add(Finding(a, AgreementRules.Validity, ReasonCodes.AgreementNotInForce, $"The agreement is not in force until {a.ValidFrom:yyyy-MM-dd}."));
        }
        else if (c.Date > a.ValidTo)
        {
            reasons.Add(Finding(a, AgreementRules.Validity, ReasonCodes.AgreementNotInForce, $"The agreement ended on {a.ValidTo:yyyy-MM-dd}."));
        }

        if (!Contains(a.Purposes, f.Purpose))
        {
            reasons.Add(Finding(a, AgreementRules.Purposes, ReasonCodes.PurposeNotPermitted,
                $"The agreement does not permit the purpose {Describe(f.Purpose, Vocabulary.Purposes)}."));
        }

        if (!Contains(a.LawfulBases, f.LawfulBasis))
        {
            reasons.Add(Finding(a, AgreementRules.LawfulBases, ReasonCodes.LawfulBasisNotPermitted,
                $"The agreement does not permit the lawful basis {Describe(f.LawfulBasis, Vocabulary.LawfulBases)}."));
        }

        var gateways = Missing(f.StatutoryGateways, a.StatutoryGateways, Vocabulary.StatutoryGateways, extra: null);
        if (gateways is not null)
        {
            reasons.Add(Finding(a, AgreementRules.StatutoryGateways, ReasonCodes.GatewayNotPermitted,
                $"The agreement does not permit the statutory gateway {gateways}."));
        }

        var impliedChildren = c.HasMinor && !c.DeclaresChildren && !Contains(a.DataCategories, Children)
            ? "'children' (a subject is under 18)"
            : null;
        var categories = Missing(f.DataCategories, a.DataCategories, Vocabulary.DataCategories, impliedChildren);
        if (categories is not null)
        {
            reasons.Add(Finding(a, AgreementRules.DataCategories, ReasonCodes.DataCategoryNotPermitted,
                $"The agreement does not cover the data category {categories}."));
        }

        var hasCondition = !string.IsNullOrEmpty(f.SensitiveCondition);
        if (c.DeclaresSpecialCategory && !hasCondition)
        {
            reasons.Add(Finding(a, AgreementRules.SensitiveConditions, ReasonCodes.SensitiveConditionMissing,
                "Special-category data is declared without a sensitive-processing condition."));
        }

        if (hasCondition && !Contains(a.SensitiveConditions, f.SensitiveCondition!))
        {
            reasons.Add(Finding(a, AgreementRules.SensitiveConditions, ReasonCodes.SensitiveConditionNotPermitted,
                $"The agreement does not permit the sensitive-processing condition {Describe(f.SensitiveCondition!, Vocabulary.SensitiveConditions)}."));
        }

        var ceiling = CeilingFinding(c, partnerCeilings[partner.Id], partner.Ceiling, agreementCeilings[a.Id], a.Ceiling);
        if (ceiling is not null)
        {
            reasons.Add(Finding(a, AgreementRules.Ceiling, ReasonCodes.ClassificationAboveCeiling, ceiling));
        }

        if (c.HandlingCodeC && !a.ConditionsAccepted)
        {
            reasons.Add(Finding(a, AgreementRules.Conditions, ReasonCodes.ConditionsNotAccepted,
                "The package carries handling conditions (handling code C), which the agreement does not accept."));
        }

        var deny = reasons.Count > 0;

        // Refer rules, in table order.
        if (c.DeclaresSpecialCategory && Contains(a.NeedsApproval, SpecialCategory))
        {
            reasons.Add(Finding(a, AgreementRules.Approval, ReasonCodes.ReferSpecialCategory,
                "The package holds special-category data, which this agreement shares only with IG approval."));
        }

        if ((c.DeclaresChildren || c.HasMinor) && Contains(a.NeedsApproval, Children))
        {
            reasons.Add(Finding(a, AgreementRules.Approval, ReasonCodes.ReferChildren,
                "The package concerns children (a subject under 18 or the 'children' category), which this agreement shares only with IG approval."));
        }

        if (c.LowReliability && !partner.Competent)
        {
            reasons.Add(Finding(a, AgreementRules.Approval, ReasonCodes.ReferLowReliability,
                "The intelligence is graded low reliability (source evaluation 3 or assessment E) and the recipient is not a competent authority: an IG officer must decide."));
        }

        if (f.OriginatorConsentRequired)
        {
            reasons.Add(Finding(a, AgreementRules.Approval, ReasonCodes.ReferOriginatorConsent,
                "Onward disclosure of this package needs the originator's consent: an IG officer must confirm it."));
        }

        var refer = !deny && reasons.Count > 0;

        // Advice never changes the outcome.
        if (c.Date > a.ReviewDue)
        {
            reasons.Add(Finding(a, AgreementRules.Review, ReasonCodes.AdviceReviewOverdue,
                $"The agreement was due for review on {a.ReviewDue:yyyy-MM-dd}."));
        }

        return new RecipientDecision
        {
            Recipient = partner.Id,
            Outcome = deny ? Outcomes.Deny : refer ? Outcomes.Refer : Outcomes.Permit,
            Agreement = a.Id,
            Reasons = reasons,
            Obligations = deny ? [] : Obligations(a, partner, c),
        };
    }

    private List<Obligation> Obligations(Agreement a, Partner partner, Context c)
    {
        var obligations = new List<Obligation>(5);
        var (competent, nonCompetent) = sanitise[a.Id];
        if ((partner.Competent ? competent : nonCompetent) is { } sanitiseObligation)
        {
            obligations.Add(sanitiseObligation);
        }

        if (c.HandlingCodeC)
        {
            obligations.Add(new Obligation { Type = ObligationTypes.AttachConditions, Conditions = c.Facts.HandlingConditions });
            obligations.Add(Acknowledge);
        }

        if (a.RetentionDays is { } days)
        {
            obligations.Add(new Obligation { Type = ObligationTypes.RetainUntil, Date = c.Date.AddDays(days) });
        }

        if (!a.OnwardSharing)
        {
            obligations.Add(NoOnwardSharing);
        }

        return obligations;
    }

    private static string? CeilingFinding(Context c, int partnerRank, string partnerCeiling, int agreementRank, string agreementCeiling)
    {
        // An unrecognised classification ranks -1: treat it as above every ceiling (fail closed).
        var rank = c.ClassificationRank;
        var shown = Describe(c.Facts.Classification, Vocabulary.Classifications);
        if (rank < 0)
        {
            return $"The classification {shown} is not recognised, so it cannot be shown to be within any ceiling.";
        }

        if (rank > HighestShareableRank)
        {
            return $"The classification {shown} never leaves through this system (accredited for OFFICIAL-SENSITIVE at most).";
        }

        var aboveRecipient = rank > partnerRank;
        var aboveAgreement = rank > agreementRank;
        return (aboveRecipient, aboveAgreement) switch
        {
            (true, true) => $"The classification {shown} is above the recipient's ceiling ({partnerCeiling}) and the agreement's ceiling ({agreementCeiling}).",
            (true, false) => $"The classification {shown} is above the recipient's ceiling ({partnerCeiling}).",
            (false, true) => $"The classification {shown} is above the agreement's ceiling ({agreementCeiling}).",
            _ => null,
        };
    }

    private static Obligation? SanitiseObligation(Agreement agreement, bool competent)
    {
        var fields = new List<string>();
        foreach (var field in PolicyVocabulary.WithholdableFields)
        {
            var withheld = (!competent && Vocabulary.NonCompetentWithheldFields.Contains(field)) || agreement.WithheldFields.Contains(field);
            if (withheld)
            {
                fields.Add(field);
            }
        }

        return fields.Count == 0 ? null : new Obligation { Type = ObligationTypes.Sanitise, Fields = fields.AsReadOnly() };
    }

    private static RecipientDecision Alone(string recipient, string code, string message) => new()
    {
        Recipient = recipient,
        Outcome = Outcomes.Deny,
        Agreement = null,
        Reasons = [new Reason(code, null, message)],
        Obligations = [],
    };

    private static Reason Finding(Agreement agreement, string rule, string code, string message) =>
        new(code, agreement.Clause(rule), message);

    private static int OutcomeRank(string outcome) => outcome switch
    {
        Outcomes.Permit => 0,
        Outcomes.Refer => 1,
        _ => 2,
    };

    private static bool Contains(IReadOnlyList<string> values, string value) => IndexOf(values, value) >= 0;

    private static int IndexOf(IReadOnlyList<string> values, string value)
    {
        for (var i = 0; i < values.Count; i++)
        {
            if (string.Equals(values[i], value, StringComparison.Ordinal))
            {
                return i;
            }
        }

        return -1;
    }

    /// <summary>
    /// The declared values missing from <paramref name="allowed"/> (plus <paramref name="extra"/>), quoted and
    /// joined for a message, or null when none is missing.
    /// </summary>
    private static string? Missing(IReadOnlyList<string> declared, IReadOnlyList<string> allowed, IReadOnlyList<string> vocabulary, string? extra)
    {
        string? missing = null;
        for (var i = 0; i < declared.Count; i++)
        {
            if (!Contains(allowed, declared[i]))
            {
                var shown = Describe(declared[i], vocabulary);
                missing = missing is null ? shown : $"{missing}, {shown}";
            }
        }

        if (extra is not null)
        {
            missing = missing is null ? extra : $"{missing}, {extra}";
        }

        return missing;
    }

    /// <summary>
    /// A declared value for a message: quoted when it is in the vocabulary, otherwise a placeholder, so that a
    /// free-text value (which could hold personal data) is never echoed.
    /// </summary>
    private static string Describe(string value, IReadOnlyList<string> vocabulary) =>
        Contains(vocabulary, value) ? $"'{value}'" : "(an unrecognised value)";

    /// <summary>What every recipient's evaluation shares, computed once per package.</summary>
    private sealed class Context
    {
        public Context(PackageFacts facts, DateTimeOffset at)
        {
            Facts = facts;
            Date = DateOnly.FromDateTime(at.UtcDateTime);
            ClassificationRank = IndexOf(Vocabulary.Classifications, facts.Classification);
            HandlingCodeC = facts.HandlingCode == "C";
            LowReliability = facts.SourceEvaluation == "3" || facts.IntelligenceAssessment == "E";
            DeclaresSpecialCategory = PolicyEngine.Contains(facts.DataCategories, SpecialCategory);
            DeclaresChildren = PolicyEngine.Contains(facts.DataCategories, Children);
            HasMinor = facts.HasMinorOn(Date);
        }

        public PackageFacts Facts { get; }

        /// <summary>The decision date, UTC.</summary>
        public DateOnly Date { get; }

        public int ClassificationRank { get; }

        public bool HandlingCodeC { get; }

        public bool LowReliability { get; }

        public bool DeclaresSpecialCategory { get; }

        public bool DeclaresChildren { get; }

        /// <summary>A subject is under 18 on the decision date: implies the <c>children</c> category.</summary>
        public bool HasMinor { get; }
    }
}
