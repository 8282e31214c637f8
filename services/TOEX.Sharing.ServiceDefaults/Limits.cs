using System.ComponentModel.DataAnnotations;
using System.Globalization;
using System.Net;
using System.Threading.RateLimiting;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Timeouts;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace TOEX.Sharing.ServiceDefaults;

/// <summary>
/// How much one client may ask of a service (<c>Limits</c>): requests per window for each caller (an
/// authenticated organisation and subject; anonymous callers by address) and for each organisation, how long a
/// request may take, and the largest body a service accepts.
/// </summary>
public sealed class LimitOptions
{
    public const string Section = "Limits";

    [Range(1, 1_000_000, ErrorMessage = "Limits:PermitsPerWindow must be between 1 and 1,000,000.")]
    public int PermitsPerWindow { get; set; } = 6000;

    /// <summary>
    /// Requests per window for all the callers of one organisation together: an organisation cannot multiply its
    /// share by using many identities.
    /// </summary>
    [Range(1, 10_000_000, ErrorMessage = "Limits:PermitsPerWindowPerOrganisation must be between 1 and 10,000,000.")]
    public int PermitsPerWindowPerOrganisation { get; set; } = 30000;

    [Range(typeof(TimeSpan), "00:00:01", "01:00:00", ErrorMessage = "Limits:Window must be between 1 s and 1 h.")]
    public TimeSpan Window { get; set; } = TimeSpan.FromMinutes(1);

    [Range(typeof(TimeSpan), "00:00:01", "00:10:00", ErrorMessage = "Limits:RequestTimeout must be between 1 s and 10 min.")]
    public TimeSpan RequestTimeout { get; set; } = TimeSpan.FromSeconds(30);
}

public static class Limits
{
    /// <summary>
    /// Per-client rate limits (429 with Retry-After), a timeout on every request (503 with Retry-After), and a
    /// body size ceiling of <paramref name="maxRequestBodyBytes"/> enforced by the server before the body is buffered.
    /// </summary>
    public static WebApplicationBuilder AddToexLimits(this WebApplicationBuilder builder, long maxRequestBodyBytes)
    {
        builder.Services.AddOptions<LimitOptions>().BindConfiguration(LimitOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        var options = builder.Configuration.GetSection(LimitOptions.Section).Get<LimitOptions>() ?? new LimitOptions();

        builder.WebHost.ConfigureKestrel(kestrel => kestrel.Limits.MaxRequestBodySize = maxRequestBodyBytes);

        builder.Services.AddRateLimiter(limiter =>
        {
            limiter.GlobalLimiter = PartitionedRateLimiter.CreateChained(
                PartitionedRateLimiter.Create<HttpContext, string>(context =>
                    RateLimitPartition.GetFixedWindowLimiter(ClientOf(context), _ => Window(options.PermitsPerWindow, options.Window))),
                PartitionedRateLimiter.Create<HttpContext, string>(context =>
                    RateLimitPartition.GetFixedWindowLimiter(OrganisationOf(context), _ => Window(options.PermitsPerWindowPerOrganisation, options.Window))));
            limiter.OnRejected = (context, cancellationToken) =>
            {
                var retryAfter = context.Lease.TryGetMetadata(MetadataName.RetryAfter, out var wait) ? wait : options.Window;
                return WriteProblemAsync(context.HttpContext, StatusCodes.Status429TooManyRequests, "rate-limited",
                    "Too many requests from this client.", retryAfter, cancellationToken);
            };
        });

        builder.Services.AddRequestTimeouts(timeouts => timeouts.DefaultPolicy = new RequestTimeoutPolicy
        {
            Timeout = options.RequestTimeout,
            TimeoutStatusCode = StatusCodes.Status503ServiceUnavailable,
            WriteTimeoutResponse = context => WriteProblemAsync(context, StatusCodes.Status503ServiceUnavailable, "request-timeout",
                $"The request took longer than {options.RequestTimeout.TotalSeconds.ToString(CultureInfo.InvariantCulture)} s and was abandoned.",
                TimeSpan.FromSeconds(5), CancellationToken.None).AsTask(),
        });
        return builder;
    }

    /// <summary>After authentication (the limiter partitions by caller), before authorisation (refused callers count too).</summary>
    public static WebApplication UseToexLimits(this WebApplication app)
    {
        app.UseRateLimiter();
        app.UseRequestTimeouts();
        return app;
    }

    private static FixedWindowRateLimiterOptions Window(int permits, TimeSpan window) => new()
    {
        PermitLimit = permits,
        Window = window,
        QueueLimit = 0,
        AutoReplenishment = true,
    };

    /// <summary>The organisation a request counts against as well: the authenticated one, else the remote address.</summary>
    private static string OrganisationOf(HttpContext context) =>
        context.User.Identity?.IsAuthenticated == true && context.User.FindFirst(Authentication.OrganisationClaim)?.Value is { } organisation
            ? "organisation:" + organisation
            : "address:" + (context.Connection.RemoteIpAddress ?? IPAddress.None);

    /// <summary>The client a request counts against: the authenticated organisation and subject, else the remote address.</summary>
    private static string ClientOf(HttpContext context) =>
        context.User.Identity?.IsAuthenticated == true
            ? "caller:" + context.User.Actor()
            : "address:" + (context.Connection.RemoteIpAddress ?? IPAddress.None);

    private static async ValueTask WriteProblemAsync(HttpContext context, int status, string slug, string title, TimeSpan retryAfter,
        CancellationToken cancellationToken)
    {
        if (context.Response.HasStarted)
        {
            return;
        }
        context.Response.StatusCode = status;
        context.Response.Headers.RetryAfter = Math.Max(1, (int)Math.Ceiling(retryAfter.TotalSeconds)).ToString(CultureInfo.InvariantCulture);
        await Problems.Status(status, slug, title).ExecuteAsync(context);
    }
}
