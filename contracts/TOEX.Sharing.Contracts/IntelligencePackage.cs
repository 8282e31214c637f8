namespace TOEX.Sharing.Contracts;

/// <summary>An intelligence package as an originator submits it (wire format v1, DOMAIN.md).</summary>
public sealed record IntelligencePackage
{
    public required string Reference { get; init; }
    public required string Originator { get; init; }
    public required string Classification { get; init; }
    public required string HandlingCode { get; init; }
    public IReadOnlyList<string> HandlingConditions { get; init; } = [];
    public required string SourceEvaluation { get; init; }
    public required string IntelligenceAssessment { get; init; }
    public required string Purpose { get; init; }
    public required string LawfulBasis { get; init; }
    public IReadOnlyList<string> StatutoryGateways { get; init; } = [];
    public required IReadOnlyList<string> DataCategories { get; init; }
    public string? SensitiveCondition { get; init; }
    public bool OriginatorConsentRequired { get; init; }
    public IReadOnlyList<Subject> Subjects { get; init; } = [];
    public required string Summary { get; init; }
    public string? Body { get; init; }
    public string? SourceDetails { get; init; }
    public MoRiLE? MoRiLE { get; init; }
    public DateOnly? ReviewDate { get; init; }
    public required IReadOnlyList<string> Recipients { get; init; }

    /// <summary>What the policy engine needs to decide: no names, narrative or identifiers.</summary>
    public PackageFacts ToFacts() => new()
    {
        Originator = Originator,
        Classification = Classification,
        HandlingCode = HandlingCode,
        HandlingConditions = HandlingConditions,
        SourceEvaluation = SourceEvaluation,
        IntelligenceAssessment = IntelligenceAssessment,
        Purpose = Purpose,
        LawfulBasis = LawfulBasis,
        StatutoryGateways = StatutoryGateways,
        DataCategories = DataCategories,
        SensitiveCondition = SensitiveCondition,
        OriginatorConsentRequired = OriginatorConsentRequired,
        SubjectCount = Subjects.Count,
        MinorUntil = PackageFacts.MinorUntilOf(Subjects.Select(s => s.DateOfBirth)),
        Recipients = Recipients,
    };
}
