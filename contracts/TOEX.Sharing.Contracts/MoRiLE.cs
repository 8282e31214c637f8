namespace TOEX.Sharing.Contracts;

/// <summary>Management of Risk in Law Enforcement metadata: carried, never computed.</summary>
public sealed record MoRiLE
{
    public required int Score { get; init; }
    public required string Confidence { get; init; }
    public required string AssessedBy { get; init; }
    public required DateOnly AssessedOn { get; init; }
}
