namespace TOEX.Sharing.Contracts;

/// <summary>
/// The originator recalled a package. <see cref="Notified"/> had received it and are sent a recall notice
/// (each a <see cref="PackageReleased"/> of kind recall); <see cref="Withdrawn"/> had not, and never will;
/// <see cref="Pending"/> had a push of it under way: a notice follows if that push is accepted, otherwise the
/// package is withdrawn from them too.
/// </summary>
public sealed record PackageRecalled
{
    public required Guid PackageId { get; init; }
    public required string Reference { get; init; }
    public required string Originator { get; init; }
    public required string RecalledBy { get; init; }
    public required string Reason { get; init; }
    public required IReadOnlyList<string> Notified { get; init; }
    public required IReadOnlyList<string> Withdrawn { get; init; }
    public IReadOnlyList<string> Pending { get; init; } = [];
    public required DateTimeOffset At { get; init; }
}
