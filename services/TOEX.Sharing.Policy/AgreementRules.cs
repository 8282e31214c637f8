namespace TOEX.Sharing.Policy;

/// <summary>The rule names of an agreement's <c>clauses</c> map: every agreement gives a clause reference for each.</summary>
public static class AgreementRules
{
    public const string Parties = "parties";
    public const string Purposes = "purposes";
    public const string LawfulBases = "lawfulBases";
    public const string StatutoryGateways = "statutoryGateways";
    public const string DataCategories = "dataCategories";
    public const string SensitiveConditions = "sensitiveConditions";
    public const string Ceiling = "ceiling";
    public const string Conditions = "conditions";
    public const string Approval = "approval";
    public const string Retention = "retention";
    public const string OnwardSharing = "onwardSharing";
    public const string Validity = "validity";
    public const string Review = "review";
    public const string Sanitisation = "sanitisation";

    public static readonly IReadOnlyList<string> All =
    [
        Parties, Purposes, LawfulBases, StatutoryGateways, DataCategories, SensitiveConditions, Ceiling,
        Conditions, Approval, Retention, OnwardSharing, Validity, Review, Sanitisation,
    ];
}
