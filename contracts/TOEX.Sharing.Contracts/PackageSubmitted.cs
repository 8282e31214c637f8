namespace TOEX.Sharing.Contracts;

/// <summary>
/// The gateway accepted and stored a package. Carries only the decision-relevant facts, and the subjects as keyed
/// blind indexes (never a name, date of birth or identifier) so the audit ledger can find disclosures about a person.
/// </summary>
public sealed record PackageSubmitted
{
    public required Guid PackageId { get; init; }
    public required string Reference { get; init; }
    public required string Originator { get; init; }
    public required string SubmittedBy { get; init; }

    /// <summary>The submitter as a person (issuer and subject): whom separation of duties keeps from approving its referral.</summary>
    public string? SubmittedByPerson { get; init; }
    public required DateTimeOffset SubmittedAt { get; init; }
    public required string ContentHash { get; init; }
    public required PackageFacts Facts { get; init; }

    /// <summary>The subjects' blind indexes (<c>SubjectBlindIndex</c> of TOEX.Sharing.Sealing), sorted and distinct.</summary>
    public IReadOnlyList<string> SubjectIndexes { get; init; } = [];
}
