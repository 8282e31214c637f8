namespace TOEX.Sharing.Contracts;

/// <summary>
/// Someone consulted personal data at the gateway (DPA 2018 s62): a partner read its feed, an originator read a
/// package's status. What (kind and items), when, why (justification), who (the authenticated person or system,
/// and its organisation). The audit worker records one ledger entry per item.
/// Kind: <c>feed-read</c> or <c>package-status</c>.
/// </summary>
public sealed record ConsultationRecorded
{
    public required string Kind { get; init; }
    public required DateTimeOffset At { get; init; }
    public required string Actor { get; init; }
    public required string Organisation { get; init; }
    public required string Justification { get; init; }
    public required IReadOnlyList<ConsultedItem> Items { get; init; }
    /// <summary>What the request asked for, e.g. the feed's <c>after</c> and <c>limit</c> (never personal data).</summary>
    public IReadOnlyDictionary<string, string> Request { get; init; } = new Dictionary<string, string>();
}
