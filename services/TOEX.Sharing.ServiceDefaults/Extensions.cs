using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace TOEX.Sharing.ServiceDefaults;

public static class Extensions
{
    public const string LiveTag = "live";

    /// <summary>A health check whose description, when it is not healthy, is shown to callers of <c>/health</c>.</summary>
    public const string ExplainTag = "explain";

    /// <summary>Telemetry, health checks, problem details and the clock: what every service starts with.</summary>
    public static IHostApplicationBuilder AddServiceDefaults(this IHostApplicationBuilder builder)
    {
        builder.Services.AddSingleton(Clock(builder));
        builder.Services.AddProblemDetails();
        builder.Services.AddExceptionHandler<StoreUnavailableHandler>();
        builder.Services.AddHealthChecks().AddCheck("self", () => HealthCheckResult.Healthy(), [LiveTag]);
        builder.ConfigureOpenTelemetry();
        return builder;
    }

    private static TimeProvider Clock(IHostApplicationBuilder builder)
    {
        var startsAt = builder.Configuration["Clock:StartsAt"];
        if (string.IsNullOrEmpty(startsAt))
        {
            return TimeProvider.System;
        }
        if (builder.Environment.IsProduction())
        {
            throw new InvalidOperationException("Clock:StartsAt moves the clock for tests and demonstrations; it cannot be set in Production.");
        }
        if (!DateTimeOffset.TryParse(startsAt, System.Globalization.CultureInfo.InvariantCulture,
                System.Globalization.DateTimeStyles.AssumeUniversal, out var instant))
        {
            throw new InvalidOperationException($"Clock:StartsAt is not an ISO-8601 instant: '{startsAt}'.");
        }
        return new ShiftedTimeProvider(instant);
    }

    private static void ConfigureOpenTelemetry(this IHostApplicationBuilder builder)
    {
        builder.Logging.AddOpenTelemetry(logging =>
        {
            logging.IncludeFormattedMessage = true;
            logging.IncludeScopes = true;
        });

        builder.Services.AddOpenTelemetry()
            .ConfigureResource(resource => resource.AddService(builder.Environment.ApplicationName))
            .WithMetrics(metrics => metrics
                .AddAspNetCoreInstrumentation()
                .AddHttpClientInstrumentation()
                .AddMeter("System.Runtime", "MassTransit", ToexTelemetry.MeterName))
            .WithTracing(tracing => tracing
                .AddSource("MassTransit", ToexTelemetry.ActivitySourceName)
                .AddAspNetCoreInstrumentation(options =>
                    options.Filter = context => !context.Request.Path.StartsWithSegments("/health")
                        && !context.Request.Path.StartsWithSegments("/alive"))
                .AddHttpClientInstrumentation());

        if (!string.IsNullOrWhiteSpace(builder.Configuration["OTEL_EXPORTER_OTLP_ENDPOINT"]))
        {
            builder.Services.AddOpenTelemetry().UseOtlpExporter();
        }
    }

    /// <summary><c>/health</c>: readiness, every check (broker and store included). <c>/alive</c>: liveness.</summary>
    public static WebApplication MapDefaultEndpoints(this WebApplication app)
    {
        app.MapHealthChecks("/health", new HealthCheckOptions { ResponseWriter = HealthResponse.WriteAsync })
            .AllowAnonymous();
        app.MapHealthChecks("/alive", new HealthCheckOptions
        {
            Predicate = check => check.Tags.Contains(LiveTag),
            ResponseWriter = HealthResponse.WriteAsync,
        }).AllowAnonymous();
        return app;
    }
}
