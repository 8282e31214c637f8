namespace TOEX.Sharing.Audit.Ledger;

/// <summary>
/// What one ledger entry says (DPA 2018 s62: what, when, justification, who, recipients). Serialised with
/// the project's JSON convention in this property order, it is the entry's canonical encoding.
/// No subject's personal data is ever put here. Consumers leave <see cref="Index"/> unset: the ledger
/// gives each entry its place when it appends it.
/// </summary>
public sealed record LedgerRecord
{
    public long Index { get; init; }
    public required string Type { get; init; }
    public required DateTimeOffset At { get; init; }
    public required string Actor { get; init; }
    public required string Justification { get; init; }
    public required IReadOnlyList<string> Recipients { get; init; }
    public Guid? PackageId { get; init; }
    public string? Originator { get; init; }
    public string? Partner { get; init; }
    public string? Agreement { get; init; }
    public string? Outcome { get; init; }
    public IReadOnlyDictionary<string, object?>? Detail { get; init; }
    public required string EventKey { get; init; }

    /// <summary>
    /// The SHA-256 of the event the entry records (its content, not its envelope): a second event under the same
    /// <see cref="EventKey"/> must carry the same content. Kept beside the entry, not in its canonical form.
    /// </summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public string? EventDigest { get; init; }
}
