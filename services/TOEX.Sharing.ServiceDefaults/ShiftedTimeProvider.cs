namespace TOEX.Sharing.ServiceDefaults;

/// <summary>
/// The system clock moved to start at a chosen instant and run on in real time. For end-to-end tests and
/// demonstrations that need a fixed decision date (<c>Clock:StartsAt</c>); refused in Production.
/// </summary>
public sealed class ShiftedTimeProvider(DateTimeOffset startsAt) : TimeProvider
{
    private readonly TimeSpan _offset = startsAt - System.GetUtcNow();

    public override DateTimeOffset GetUtcNow() => System.GetUtcNow() + _offset;

    public override TimeZoneInfo LocalTimeZone => TimeZoneInfo.Utc;
}
