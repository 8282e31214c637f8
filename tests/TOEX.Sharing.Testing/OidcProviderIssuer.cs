using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace TOEX.Sharing.Testing;

/// <summary>
/// The npm <c>oidc-provider</c> package (tests/interop/oidc-issuer.mjs) on a loopback port: a real
/// OpenID Connect issuer no one here wrote. Its clients use client credentials and receive JWT access
/// tokens for <see cref="Audience"/> carrying their <c>org</c> and <c>roles</c>.
/// </summary>
public sealed class OidcProviderIssuer : IAsyncDisposable
{
    public const string Audience = "api://toex-sharing";
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(60);

    private readonly ChildProcess process;
    private readonly HttpClient http = new() { Timeout = TimeSpan.FromSeconds(30) };
    private readonly Dictionary<string, string> secrets;

    private OidcProviderIssuer(ChildProcess process, string authority, Dictionary<string, string> secrets)
    {
        this.process = process;
        Authority = authority;
        this.secrets = secrets;
    }

    /// <summary>The issuer (and authority) URL.</summary>
    public string Authority { get; }

    /// <summary>
    /// Starts the issuer with one client-credentials client per entry (client id → organisation, roles), and optionally web
    /// clients (authorization code flow with PKCE) and the users who sign in to them on the issuer's login form.
    /// </summary>
    public static async Task<OidcProviderIssuer> StartAsync(string folder, IReadOnlyDictionary<string, (string Organisation, string[] Roles)> clients,
        IReadOnlyList<OidcWebClient>? webClients = null, IReadOnlyList<OidcUser>? users = null, int? port = null)
    {
        await NodeInterop.EnsureInstalledAsync();
        var secrets = clients.Keys.ToDictionary(id => id, _ => Convert.ToHexString(System.Security.Cryptography.RandomNumberGenerator.GetBytes(24)));
        var file = Path.Combine(folder, "oidc-clients.json");
        await File.WriteAllTextAsync(file, JsonSerializer.Serialize(new
        {
            clients = clients.Select(client => new
            {
                client_id = client.Key,
                client_secret = secrets[client.Key],
                org = client.Value.Organisation,
                roles = client.Value.Roles,
            }),
            webClients = (webClients ?? []).Select(client => new { client_id = client.ClientId, client_secret = client.ClientSecret, redirect_uris = client.RedirectUris }),
            users = (users ?? []).Select(user => new { username = user.Username, password = user.Password, org = user.Organisation, roles = user.Roles }),
        }));
        var listen = port ?? FreePort.Next();
        var process = ChildProcess.Start("node", ["oidc-issuer.mjs", listen.ToString(System.Globalization.CultureInfo.InvariantCulture), Audience, file],
            null, NodeInterop.Directory, "oidc-provider");
        try
        {
            await process.WaitForOutputAsync("READY ", StartTimeout);
            return new OidcProviderIssuer(process, $"http://127.0.0.1:{listen}", secrets);
        }
        catch (Exception e)
        {
            var output = process.FormatRecentOutput(40);
            await process.DisposeAsync();
            throw new InvalidOperationException($"oidc-provider did not start: {e.Message}\n{output}", e);
        }
    }

    /// <summary>A client-credentials access token for <paramref name="clientId"/>.</summary>
    public async Task<string> TokenAsync(string clientId)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, Authority + "/token")
        {
            Content = new FormUrlEncodedContent(new Dictionary<string, string>
            {
                ["grant_type"] = "client_credentials",
                ["scope"] = "toex",
                ["resource"] = Audience,
            }),
        };
        request.Headers.Authorization = new AuthenticationHeaderValue("Basic",
            Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes($"{clientId}:{secrets[clientId]}")));
        using var response = await http.SendAsync(request);
        var body = await response.Content.ReadFromJsonAsync<JsonObject>();
        return response.IsSuccessStatusCode && body?["access_token"] is JsonValue token
            ? (string)token!
            : throw new InvalidOperationException($"oidc-provider refused a token for {clientId}: {(int)response.StatusCode} {body}");
    }

    /// <summary>The configuration a service needs to trust this issuer, as environment variables (for issuer slot <paramref name="index"/>).</summary>
    public Dictionary<string, string?> TrustedAs(string name, int index, params string[] organisations)
    {
        var at = $"Authentication__Issuers__{index}__";
        var settings = new Dictionary<string, string?>
        {
            [at + "Name"] = name,
            [at + "Authority"] = Authority,
            [at + "Audience"] = Audience,
            [at + "RequireHttpsMetadata"] = "false",
        };
        for (var i = 0; i < organisations.Length; i++)
        {
            settings[at + $"Organisations__{i}"] = organisations[i];
        }
        // What an organisation's own identity provider may grant: never an operator role.
        string[] roles = ["Packages.Submit", "Feed.Read", "Audit.Read", "Disclosures.Approve"];
        for (var i = 0; i < roles.Length; i++)
        {
            settings[at + $"Roles__{i}"] = roles[i];
        }
        return settings;
    }

    public async ValueTask DisposeAsync()
    {
        http.Dispose();
        await process.DisposeAsync();
    }
}

/// <summary>A web client of the issuer (the IG console): authorization code flow with PKCE to one of <see cref="RedirectUris"/>.</summary>
public sealed record OidcWebClient(string ClientId, string ClientSecret, IReadOnlyList<string> RedirectUris);

/// <summary>A person who signs in on the issuer's login form; their access tokens carry <see cref="Organisation"/> and <see cref="Roles"/>.</summary>
public sealed record OidcUser(string Username, string Password, string Organisation, IReadOnlyList<string> Roles);
