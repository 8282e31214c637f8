using System.CommandLine;
using System.Globalization;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using TOEX.Sharing.Sealing;

namespace TOEX.Sharing.Cli;

/// <summary>
/// <c>toex audit reconcile</c>: every copy the gateway released (<c>GET /api/v1/releases</c>) must have its
/// <c>release</c> entry in the audit ledger (<c>GET /api/v1/audit/entries?type=release</c>). Lists each release
/// without one and exits 1; exits 0 when there is none. Releases still in flight (published, not yet recorded)
/// show as missing: run it when the gateway is quiet, or again.
/// </summary>
public static class AuditReconcile
{
    public static Command Create()
    {
        var gateway = new Option<string>("--gateway") { Description = "The gateway's base URL, e.g. http://127.0.0.1:5080", Required = true };
        var audit = new Option<string>("--audit") { Description = "The audit service's base URL, e.g. http://127.0.0.1:5081", Required = true };
        var token = new Option<string?>("--token") { Description = "A bearer token with Audit.Read, accepted by both (default: TOEX_TOKEN)" };
        var devOrg = new Option<string?>("--dev-org") { Description = "Mint a development-issuer token for this organisation instead (local runs only)" };
        var reconcile = new Command("reconcile", "Reports every release at the gateway without its entry in the audit ledger; exit 1 if any.")
        {
            gateway, audit, token, devOrg,
        };
        reconcile.SetAction((parse, cancellationToken) =>
        {
            var error = parse.InvocationConfiguration.Error;
            if (!TryUrl(parse.GetValue(gateway), out var gatewayUrl) || !TryUrl(parse.GetValue(audit), out var auditUrl))
            {
                error.WriteLine("--gateway and --audit must be http(s) URLs, e.g. http://127.0.0.1:5080");
                return Task.FromResult(ExitCodes.Usage);
            }
            var bearer = parse.GetValue(token) ?? Environment.GetEnvironmentVariable("TOEX_TOKEN");
            if (bearer is null && parse.GetValue(devOrg) is { } organisation)
            {
                using var issuer = DevIssuer.OpenOrCreate(DevIssuer.DefaultDirectory(), TimeProvider.System);
                bearer = issuer.CreateToken(organisation, ["Audit.Read"], $"{organisation}-reconciliation", TimeSpan.FromHours(1));
            }
            if (bearer is null)
            {
                error.WriteLine("Give a token with Audit.Read: --token, TOEX_TOKEN, or --dev-org for a local run.");
                return Task.FromResult(ExitCodes.Usage);
            }
            return ReconcileAsync(gatewayUrl!, auditUrl!, bearer, parse.InvocationConfiguration.Output, error, cancellationToken);
        });
        return reconcile;
    }

    private static bool TryUrl(string? value, out Uri? url) =>
        Uri.TryCreate(value, UriKind.Absolute, out url) && url.Scheme is "http" or "https";

    private static async Task<int> ReconcileAsync(Uri gateway, Uri audit, string bearer, TextWriter output, TextWriter error, CancellationToken cancellationToken)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(60) };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", bearer);
        http.DefaultRequestHeaders.Add("X-Justification", "Reconciliation of the gateway's releases with the audit ledger");
        List<JsonNode> releases, entries;
        try
        {
            releases = await PagesAsync(http, new Uri(gateway, "/api/v1/releases?limit=1000"), "next", cancellationToken);
            // A recall notice is released like a package (kind recall at the gateway) and recorded as a recall-notice entry.
            entries = [];
            foreach (var type in EntryTypes.Values)
            {
                entries.AddRange(await PagesAsync(http, new Uri(audit, $"/api/v1/audit/entries?type={type}&limit=1000"), "next", cancellationToken));
            }
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException or System.Text.Json.JsonException)
        {
            error.WriteLine($"toex audit reconcile: {e.Message}");
            return ExitCodes.Usage;
        }

        // A copy is released once per recipient, package and kind; the ledger has one entry per copy (release or recall-notice).
        var recorded = entries.GroupBy(e => ((string?)e["packageId"], (string?)e["partner"], KindOf((string?)e["type"])))
            .ToDictionary(g => g.Key, g => g.Count());
        var missing = new List<JsonNode>();
        foreach (var release in releases)
        {
            var key = ((string?)release["packageId"], (string?)release["recipient"], (string?)release["kind"]);
            if (recorded.TryGetValue(key, out var count) && count > 0)
            {
                recorded[key] = count - 1;
            }
            else
            {
                missing.Add(release);
            }
        }
        foreach (var release in missing)
        {
            error.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"release without a ledger entry: package {release["packageId"]} to {release["recipient"]} ({release["kind"]}, cursor {release["cursor"]}, released {release["releasedAt"]})"));
        }
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{releases.Count} release(s) at the gateway ({releases.Count(r => (string?)r["kind"] == "recall")} recall notices), {entries.Count} release and recall-notice entr{(entries.Count == 1 ? "y" : "ies")} in the ledger, {missing.Count} release(s) without an entry."));
        return missing.Count == 0 ? ExitCodes.Success : ExitCodes.Finding;
    }

    /// <summary>The gateway's release kind → the ledger entry type that records it.</summary>
    private static readonly Dictionary<string, string> EntryTypes = new(StringComparer.Ordinal) { ["package"] = "release", ["recall"] = "recall-notice" };

    private static string? KindOf(string? entryType) => EntryTypes.FirstOrDefault(t => t.Value == entryType).Key;

    /// <summary>Every item of a listing paged by <c>after</c>, following <paramref name="next"/> until it is null.</summary>
    private static async Task<List<JsonNode>> PagesAsync(HttpClient http, Uri first, string next, CancellationToken cancellationToken)
    {
        var items = new List<JsonNode>();
        var url = first;
        while (true)
        {
            using var response = await http.GetAsync(url, cancellationToken);
            if (!response.IsSuccessStatusCode)
            {
                throw new HttpRequestException($"{url} answered {(int)response.StatusCode} {response.ReasonPhrase}: {await response.Content.ReadAsStringAsync(cancellationToken)}");
            }
            var page = (await response.Content.ReadFromJsonAsync<JsonObject>(cancellationToken))!;
            items.AddRange(page["items"]!.AsArray().Select(i => i!));
            if (page[next] is not { } after)
            {
                return items;
            }
            var query = System.Web.HttpUtility.ParseQueryString(first.Query);
            query["after"] = after.ToString();
            url = new UriBuilder(first) { Query = query.ToString() }.Uri;
        }
    }
}
