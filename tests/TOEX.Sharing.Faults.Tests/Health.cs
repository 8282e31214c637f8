using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;

namespace TOEX.Sharing.Faults.Tests;

/// <summary>A service's <c>/health</c> (readiness) and <c>/alive</c> (liveness) as a load balancer sees them.</summary>
public sealed record Health(HttpStatusCode Status, JsonObject? Body)
{
    private static readonly HttpClient Http = new() { Timeout = TimeSpan.FromSeconds(10) };

    public bool Ready => Status == HttpStatusCode.OK;

    /// <summary>The reason <c>/health</c> names for <paramref name="check"/>, if any.</summary>
    public string? Reason(string check) => (string?)Body?["reasons"]?[check];

    public static async Task<Health> ReadAsync(Uri service, string path = "/health")
    {
        try
        {
            using var response = await Http.GetAsync(new Uri(service, path));
            var body = response.Content.Headers.ContentType?.MediaType == "application/json"
                ? await response.Content.ReadFromJsonAsync<JsonObject>() : null;
            return new Health(response.StatusCode, body);
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
        {
            return new Health(0, null);
        }
    }

    public override string ToString() => $"{(int)Status} {Body?.ToJsonString()}";
}
