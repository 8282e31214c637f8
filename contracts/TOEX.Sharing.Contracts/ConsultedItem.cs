namespace TOEX.Sharing.Contracts;

/// <summary>One package shown by a consultation: whose it is, and for a feed item its recipient, kind and cursor.</summary>
public sealed record ConsultedItem
{
    public required Guid PackageId { get; init; }
    public required string Originator { get; init; }
    public string? Recipient { get; init; }
    public string? Kind { get; init; }
    public long? Cursor { get; init; }
}
