namespace TOEX.Sharing.Contracts;

/// <summary>
/// The decision-relevant facts of a package: what PolicyDecision needs and no more. Subjects appear only as a count
/// and, for the under-18 rule, the date from which the youngest subject is an adult, linked to no subject: no name,
/// date of birth, narrative, identifier or provenance travels to the policy service or the audit worker (nor rests in
/// an error queue).
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
    /// <summary>How many subjects the package names.</summary>
    public int SubjectCount { get; init; }

    /// <summary>
    /// The youngest subject's 18th birthday (29 February births turn 18 on 1 March in a common year): before this date
    /// a subject is under 18. Null when no subject has a date of birth.
    /// </summary>
    public DateOnly? MinorUntil { get; init; }

    /// <summary>Whether a subject is under 18 on <paramref name="date"/>.</summary>
    public bool HasMinorOn(DateOnly date) => MinorUntil is { } adult && date < adult;

    /// <summary>The 18th birthday of someone born on <paramref name="dateOfBirth"/>.</summary>
    public static DateOnly EighteenthBirthday(DateOnly dateOfBirth)
    {
        var year = dateOfBirth.Year + 18;
        if (year > DateOnly.MaxValue.Year)
        {
            // Born after 9981 (found by AFL: it threw, a 500): a minor for as long as a date can say, fail closed.
            return DateOnly.MaxValue;
        }
        return dateOfBirth is { Month: 2, Day: 29 } && !DateTime.IsLeapYear(year)
            ? new DateOnly(year, 3, 1)
            : new DateOnly(year, dateOfBirth.Month, dateOfBirth.Day);
    }

    /// <summary><see cref="MinorUntil"/> of subjects with these dates of birth: the latest 18th birthday.</summary>
    public static DateOnly? MinorUntilOf(IEnumerable<DateOnly?> datesOfBirth) =>
        datesOfBirth.OfType<DateOnly>().Select(EighteenthBirthday).Cast<DateOnly?>().Max();
    public required IReadOnlyList<string> Recipients { get; init; }
}
