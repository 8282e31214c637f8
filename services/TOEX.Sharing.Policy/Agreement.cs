namespace TOEX.Sharing.Policy;

/// <summary>
/// A data sharing agreement (DOMAIN.md "Data sharing agreements"). Dates are inclusive UTC days.
/// <see cref="RetentionDays"/> null: no retention limit at the recipient. <see cref="Clauses"/> maps
/// every rule name of <see cref="AgreementRules"/> to the clause reference that states it.
/// </summary>
public sealed record Agreement
{
    public required string Id { get; init; }
    public required string Title { get; init; }
    public required string Owner { get; init; }
    public required string Version { get; init; }
    public required string Status { get; init; }
    public required DateOnly ValidFrom { get; init; }
    public required DateOnly ValidTo { get; init; }
    public required DateOnly ReviewDue { get; init; }
    public required IReadOnlyList<string> Originators { get; init; }
    public required IReadOnlyList<string> Recipients { get; init; }
    public required IReadOnlyList<string> Purposes { get; init; }
    public required IReadOnlyList<string> LawfulBases { get; init; }
    public required IReadOnlyList<string> StatutoryGateways { get; init; }
    public required IReadOnlyList<string> DataCategories { get; init; }
    public required IReadOnlyList<string> SensitiveConditions { get; init; }
    public required string Ceiling { get; init; }
    public required bool ConditionsAccepted { get; init; }
    public required IReadOnlyList<string> NeedsApproval { get; init; }
    public required IReadOnlyList<string> WithheldFields { get; init; }
    public int? RetentionDays { get; init; }
    public required bool OnwardSharing { get; init; }
    public required IReadOnlyDictionary<string, string> Clauses { get; init; }

    /// <summary>The clause reference of <paramref name="rule"/> (an <see cref="AgreementRules"/> name), or null.</summary>
    public string? Clause(string rule) => Clauses.TryGetValue(rule, out var clause) ? clause : null;
}
