using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace TOEX.Sharing.ServiceDefaults;

/// <summary>
/// Health as JSON: overall status and each check's status, and why a check tagged <see cref="Extensions.ExplainTag"/>
/// is not healthy (its own description, written for callers). No exception text reaches the caller.
/// </summary>
internal static class HealthResponse
{
    public static Task WriteAsync(HttpContext context, HealthReport report)
    {
        context.Response.ContentType = "application/json";
        var body = new
        {
            status = report.Status.ToString(),
            checks = report.Entries.ToDictionary(e => e.Key, e => e.Value.Status.ToString()),
            reasons = report.Entries
                .Where(e => e.Value.Status != HealthStatus.Healthy && e.Value.Tags.Contains(Extensions.ExplainTag)
                    && (e.Value.Description is not null || e.Value.Exception is not null))
                .ToDictionary(e => e.Key, e => Reason(e.Value)),
        };
        return context.Response.WriteAsync(JsonSerializer.Serialize(body));
    }

    /// <summary>
    /// A check that threw has its exception's message as its description (the health check service's default): never
    /// shown. It says which of the two it was instead: the store unavailable, or the check failing.
    /// </summary>
    private static string? Reason(HealthReportEntry entry) => entry.Exception switch
    {
        null => entry.Description,
        var e when StoreFailures.IsTransient(e) => "The store is unreachable.",
        _ => "The check failed; see the service's log.",
    };
}
