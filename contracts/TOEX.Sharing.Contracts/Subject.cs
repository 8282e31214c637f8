namespace TOEX.Sharing.Contracts;

/// <summary>A person the package is about. Role: victim, suspect, witness, associate, other.</summary>
public sealed record Subject
{
    public required string Role { get; init; }
    public required string Name { get; init; }
    public DateOnly? DateOfBirth { get; init; }
    public IReadOnlyDictionary<string, string>? Identifiers { get; init; }
}
