namespace TOEX.Sharing.Contracts;

/// <summary>
/// What a permit obliges: <c>sanitise</c> (Fields), <c>attach-conditions</c> (Conditions),
/// <c>acknowledge</c>, <c>retain-until</c> (Date), <c>no-onward-sharing</c>.
/// </summary>
public sealed record Obligation
{
    public required string Type { get; init; }
    public IReadOnlyList<string>? Fields { get; init; }
    public IReadOnlyList<string>? Conditions { get; init; }
    public DateOnly? Date { get; init; }
}
