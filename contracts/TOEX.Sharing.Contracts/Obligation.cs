using System.Text.Json.Serialization;

namespace TOEX.Sharing.Contracts;

/// <summary>
/// What a permit obliges: <c>sanitise</c> (Fields), <c>attach-conditions</c> (Conditions),
/// <c>acknowledge</c>, <c>retain-until</c> (Date), <c>no-onward-sharing</c>. A member an obligation type does not
/// carry is left out of its JSON wherever it is written (package status, referrals, simulations, the decision, the CLI),
/// whatever the serialiser's own null handling.
/// </summary>
public sealed record Obligation
{
    public required string Type { get; init; }

    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public IReadOnlyList<string>? Fields { get; init; }

    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public IReadOnlyList<string>? Conditions { get; init; }

    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public DateOnly? Date { get; init; }
}
