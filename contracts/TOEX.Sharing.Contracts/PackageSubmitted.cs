namespace TOEX.Sharing.Contracts;

/// <summary>The gateway accepted and stored a package. Carries only the decision-relevant facts.</summary>
public sealed record PackageSubmitted
{
    public required Guid PackageId { get; init; }
    public required string Reference { get; init; }
    public required string Originator { get; init; }
    public required string SubmittedBy { get; init; }
    public required DateTimeOffset SubmittedAt { get; init; }
    public required string ContentHash { get; init; }
    public required PackageFacts Facts { get; init; }
}
