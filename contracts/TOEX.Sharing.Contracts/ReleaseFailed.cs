namespace TOEX.Sharing.Contracts;

/// <summary>
/// A permitted copy the gateway could not release to one recipient (no usable encryption key is registered for it):
/// nothing was sent to that recipient, and why. The package's other recipients are not affected.
/// </summary>
public sealed record ReleaseFailed
{
    public required Guid PackageId { get; init; }
    public required string Reference { get; init; }
    public required string Originator { get; init; }
    public required string Recipient { get; init; }

    /// <summary><c>package</c> or <c>recall</c> (a recall notice).</summary>
    public required string Kind { get; init; }

    public required string Reason { get; init; }
    public required DateTimeOffset At { get; init; }
}
