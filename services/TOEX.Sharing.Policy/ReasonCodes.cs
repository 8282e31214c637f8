namespace TOEX.Sharing.Policy;

/// <summary>The stable reason codes of DOMAIN.md, in table order (deny, refer, advice).</summary>
public static class ReasonCodes
{
    public const string UnknownPartner = "UNKNOWN_PARTNER";
    public const string NoAgreement = "NO_AGREEMENT";
    public const string AgreementNotInForce = "AGREEMENT_NOT_IN_FORCE";
    public const string PurposeNotPermitted = "PURPOSE_NOT_PERMITTED";
    public const string LawfulBasisNotPermitted = "LAWFUL_BASIS_NOT_PERMITTED";
    public const string GatewayNotPermitted = "GATEWAY_NOT_PERMITTED";
    public const string DataCategoryNotPermitted = "DATA_CATEGORY_NOT_PERMITTED";
    public const string SensitiveConditionMissing = "SENSITIVE_CONDITION_MISSING";
    public const string SensitiveConditionNotPermitted = "SENSITIVE_CONDITION_NOT_PERMITTED";
    public const string ClassificationAboveCeiling = "CLASSIFICATION_ABOVE_CEILING";
    public const string ConditionsNotAccepted = "CONDITIONS_NOT_ACCEPTED";

    public const string ReferSpecialCategory = "REFER_SPECIAL_CATEGORY";
    public const string ReferChildren = "REFER_CHILDREN";
    public const string ReferLowReliability = "REFER_LOW_RELIABILITY";
    public const string ReferOriginatorConsent = "REFER_ORIGINATOR_CONSENT";

    public const string AdviceReviewOverdue = "ADVICE_REVIEW_OVERDUE";

    public static readonly IReadOnlyList<string> Deny =
    [
        UnknownPartner, NoAgreement, AgreementNotInForce, PurposeNotPermitted, LawfulBasisNotPermitted,
        GatewayNotPermitted, DataCategoryNotPermitted, SensitiveConditionMissing, SensitiveConditionNotPermitted,
        ClassificationAboveCeiling, ConditionsNotAccepted,
    ];

    public static readonly IReadOnlyList<string> Refer =
        [ReferSpecialCategory, ReferChildren, ReferLowReliability, ReferOriginatorConsent];

    public static readonly IReadOnlyList<string> Advice = [AdviceReviewOverdue];

    public static readonly IReadOnlyList<string> All = [.. Deny, .. Refer, .. Advice];
}
