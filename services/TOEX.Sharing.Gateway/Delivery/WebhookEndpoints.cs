using System.Text.Json;
using Microsoft.Extensions.Options;
using TOEX.Sharing.Gateway.Core;
using TOEX.Sharing.Policy;
using TOEX.Sharing.ServiceDefaults;

namespace TOEX.Sharing.Gateway.Delivery;

/// <summary>Where a push partner's webhooks go, and whether its endpoint may be on this machine or a private network.</summary>
public sealed record WebhookEndpoint(Uri Url, bool LocalDevelopment);

/// <summary>
/// Push partners' endpoints. The production endpoint is the partner's <c>endpoint</c> in the policy set
/// (https only, covered by the policy-set hash: pointing a partner's disclosures elsewhere is a policy change).
/// The partner registry (beside its keys) may hold <c>PARTNER.webhook.json</c>,
/// <c>{"endpoint": "http://127.0.0.1:5090/hooks", "localDevelopment": true}</c>, for a local development
/// endpoint: plain HTTP and loopback or private addresses are allowed for that partner only. The file is ignored in
/// Production, where only the policy set's endpoint is used. Read on every attempt, so a change needs no restart.
/// </summary>
public sealed class WebhookEndpoints(PolicySetMonitor policies, IOptions<GatewayOptions> options, IHostEnvironment environment) : IPushPartners
{
    private readonly string _registry = options.Value.PartnerKeysPath ?? Path.Combine(LocalPaths.Root(), "keys", "partners");

    /// <summary>Whether the policy set says this partner receives pushes.</summary>
    public bool IsPush(string partner) => policies.Current.Partners.TryGetValue(partner, out var p) && p.Delivery == "push";

    /// <summary>The partner's endpoint, or why there is none it may be sent to.</summary>
    public (WebhookEndpoint? Endpoint, string? Problem) Resolve(string partner)
    {
        if (!policies.Current.Partners.TryGetValue(partner, out var registered) || registered.Delivery != "push")
        {
            return (null, "The partner does not take push delivery.");
        }
        var file = Path.Combine(_registry, partner + ".webhook.json");
        // In Production only the policy set names where a partner's disclosures go: a file beside the keys, which the
        // policy-set hash does not cover, is never read there.
        if (environment.IsProduction() || !File.Exists(file))
        {
            return registered.Endpoint is { } url
                ? Check(new WebhookEndpoint(url, LocalDevelopment: false))
                : (null, "No webhook endpoint is registered for the partner.");
        }

        Override? entry;
        try
        {
            entry = JsonSerializer.Deserialize<Override>(File.ReadAllText(file), Json);
        }
        catch (Exception e) when (e is JsonException or IOException)
        {
            return (null, $"The partner registry's {partner}.webhook.json is unreadable.");
        }
        if (entry?.Endpoint is null || !Uri.TryCreate(entry.Endpoint, UriKind.Absolute, out var uri))
        {
            return (null, $"The partner registry's {partner}.webhook.json has no absolute 'endpoint'.");
        }
        return Check(new WebhookEndpoint(uri, entry.LocalDevelopment));
    }

    private static (WebhookEndpoint?, string?) Check(WebhookEndpoint endpoint) => endpoint switch
    {
        { Url.UserInfo.Length: > 0 } => (null, "A webhook endpoint may not carry credentials in its URL."),
        { LocalDevelopment: false } when endpoint.Url.Scheme != Uri.UriSchemeHttps => (null, "A webhook endpoint must use https."),
        _ when endpoint.Url.Scheme != Uri.UriSchemeHttps && endpoint.Url.Scheme != Uri.UriSchemeHttp => (null, "A webhook endpoint must be an http(s) URL."),
        _ => (endpoint, null),
    };

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    private sealed record Override(string? Endpoint, bool LocalDevelopment);
}
