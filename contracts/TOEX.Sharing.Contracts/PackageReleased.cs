namespace TOEX.Sharing.Contracts;

/// <summary>A sealed copy was put on a recipient's channel (a disclosure). Kind: package or recall.</summary>
public sealed record PackageReleased
{
    public required Guid PackageId { get; init; }
    public required string Reference { get; init; }
    public required string Originator { get; init; }
    public required string Recipient { get; init; }
    public required string Kind { get; init; }
    public string? Agreement { get; init; }
    public required string Purpose { get; init; }
    public required string LawfulBasis { get; init; }
    public required string PolicyVersion { get; init; }
    public required string AuthorisedBy { get; init; }
    /// <summary>The authoriser's justification, where a person authorised the release (an approved referral).</summary>
    public string? Justification { get; init; }
    public required IReadOnlyList<string> WithheldFields { get; init; }
    public required long FeedCursor { get; init; }
    public required string SealedSha256 { get; init; }
    public required DateTimeOffset ReleasedAt { get; init; }
}
