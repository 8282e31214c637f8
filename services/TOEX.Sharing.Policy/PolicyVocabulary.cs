namespace TOEX.Sharing.Policy;

/// <summary>The closed vocabularies of the policy files beyond those of the wire format (<c>Contracts.Vocabulary</c>).</summary>
public static class PolicyVocabulary
{
    public static readonly IReadOnlyList<string> PartnerKinds =
        ["rocu", "police-force", "nca", "border-force", "local-authority", "health", "voluntary"];

    public static readonly IReadOnlyList<string> Deliveries = ["pull", "push"];

    public static readonly IReadOnlyList<string> AgreementStatuses = ["draft", "active", "suspended", "terminated"];

    /// <summary>
    /// Cases an agreement may list under <c>needsApproval</c>. <c>special-category</c> and <c>children</c>
    /// turn on REFER_SPECIAL_CATEGORY and REFER_CHILDREN. DOMAIN.md makes REFER_LOW_RELIABILITY and
    /// REFER_ORIGINATOR_CONSENT unconditional, so listing <c>low-reliability</c> or <c>originator-consent</c>
    /// only records them in the agreement's text; the engine refers on them either way.
    /// </summary>
    public static readonly IReadOnlyList<string> ApprovalCases = ["special-category", "children", "low-reliability", "originator-consent"];

    /// <summary>
    /// Package fields an agreement may withhold (its sanitisation profile), in the order a <c>sanitise</c>
    /// obligation lists them. The first five are those withheld from every recipient that is not a
    /// competent authority (<c>Vocabulary.NonCompetentWithheldFields</c>).
    /// </summary>
    public static readonly IReadOnlyList<string> WithholdableFields =
    [
        "sourceEvaluation", "intelligenceAssessment", "sourceDetails", "moRiLE", "subjects.identifiers",
        "subjects.dateOfBirth", "body", "reviewDate",
    ];
}
