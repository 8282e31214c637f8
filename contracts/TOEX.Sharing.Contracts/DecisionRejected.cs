namespace TOEX.Sharing.Contracts;

/// <summary>The gateway refused a decision (bad signature, mismatched package or content hash): nothing was released.</summary>
public sealed record DecisionRejected
{
    public required Guid PackageId { get; init; }
    public required string Why { get; init; }
    public required DateTimeOffset RejectedAt { get; init; }
}
