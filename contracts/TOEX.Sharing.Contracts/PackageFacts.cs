namespace TOEX.Sharing.Contracts;

/// <summary>
/// The decision-relevant facts of a package: what PolicyDecision needs and no more. Subjects appear
/// only as dates of birth (for the under-18 rule); names, narrative, identifiers and provenance
/// never travel to the policy service or the audit worker.
/// </summary>
public sealed record PackageFacts
{
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
    public IReadOnlyList<DateOnly?> SubjectDatesOfBirth { get; init; } = [];
    public required IReadOnlyList<string> Recipients { get; init; }
}
