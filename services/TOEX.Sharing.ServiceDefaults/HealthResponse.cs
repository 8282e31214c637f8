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
                .Where(e => e.Value.Status != HealthStatus.Healthy && e.Value.Tags.Contains(Extensions.ExplainTag) && e.Value.Description is not null)
                .ToDictionary(e => e.Key, e => e.Value.Description),
        };
        return context.Response.WriteAsync(JsonSerializer.Serialize(body));
    }
}
