namespace TOEX.Sharing.Contracts;

/// <summary>The decision for one recipient. Outcome: permit, refer or deny. Agreement is null when none applies.</summary>
public sealed record RecipientDecision
{
    public required string Recipient { get; init; }
    public required string Outcome { get; init; }
    public string? Agreement { get; init; }
    public required IReadOnlyList<Reason> Reasons { get; init; }
    public required IReadOnlyList<Obligation> Obligations { get; init; }
}
