namespace TOEX.Sharing.Contracts;

/// <summary>The decisions for every recipient of a package under one policy set (API.md decision shape).</summary>
public sealed record DecisionDocument
{
    public required string PolicyVersion { get; init; }
    public required IReadOnlyList<RecipientDecision> Decisions { get; init; }
}
