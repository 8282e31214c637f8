namespace TOEX.Sharing.Contracts;

/// <summary>The closed vocabularies of the wire format (DOMAIN.md).</summary>
public static class Vocabulary
{
    public static readonly IReadOnlyList<string> Classifications = ["OFFICIAL", "OFFICIAL-SENSITIVE", "SECRET", "TOP-SECRET"];
    public static readonly IReadOnlyList<string> HandlingCodes = ["P", "C"];
    public static readonly IReadOnlyList<string> SourceEvaluations = ["1", "2", "3"];
    public static readonly IReadOnlyList<string> IntelligenceAssessments = ["A", "B", "C", "D", "E"];
    public static readonly IReadOnlyList<string> Purposes =
        ["law-enforcement", "safeguarding-children", "safeguarding-adults", "crime-and-disorder", "immigration-enforcement"];
    public static readonly IReadOnlyList<string> LawfulBases =
        ["DPA2018-Part3:s35(2)(b)", "UKGDPR:Art6(1)(e)", "UKGDPR:Art6(1)(c)", "UKGDPR:Art6(1)(d)"];
    public static readonly IReadOnlyList<string> SensitiveConditions =
        ["DPA2018-Sch8:para1", "DPA2018-Sch8:para4", "UKGDPR:Art9(2)(g)+DPA2018-Sch1:para18"];
    public static readonly IReadOnlyList<string> StatutoryGateways = ["CDA1998:s115", "CA2004:s11", "CCA2013:Sch7"];
    public static readonly IReadOnlyList<string> DataCategories = ["personal", "special-category", "criminal-offence", "children"];
    public static readonly IReadOnlyList<string> SubjectRoles = ["victim", "suspect", "witness", "associate", "other"];
    public static readonly IReadOnlyList<string> MoRiLEConfidences = ["low", "medium", "high"];

    /// <summary>Fields withheld from a recipient that is not a competent authority.</summary>
    public static readonly IReadOnlyList<string> NonCompetentWithheldFields =
        ["sourceEvaluation", "intelligenceAssessment", "sourceDetails", "moRiLE", "subjects.identifiers"];

    /// <summary>Rank of a classification (OFFICIAL &lt; OFFICIAL-SENSITIVE &lt; SECRET &lt; TOP-SECRET), -1 if unknown.</summary>
    public static int ClassificationRank(string classification) =>
        Classifications.ToList().IndexOf(classification);
}
