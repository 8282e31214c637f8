using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace TOEX.Sharing.ServiceDefaults;

/// <summary>The project's own activity source and meter (besides MassTransit's).</summary>
public static class ToexTelemetry
{
    public const string ActivitySourceName = "TOEX.Sharing";
    public const string MeterName = "TOEX.Sharing";

    public static readonly ActivitySource Source = new(ActivitySourceName);
    public static readonly Meter Meter = new(MeterName);
}
