namespace TOEX.Sharing.Audit.Console;

/// <summary>
/// The IG console's sign-in (<c>Console</c>): for each identity provider of <c>Authentication:Issuers</c> that officers
/// sign in with, the console's own client registration there. The provider's trust (authority, audience, the
/// organisations it may speak for, its roles) stays in <c>Authentication:Issuers</c>, shared with the API.
/// </summary>
public sealed class ConsoleOptions
{
    public const string Section = "Console";

    public List<ConsoleIssuerOptions> Issuers { get; set; } = [];

    /// <summary>
    /// The gateway's base URL, for the operator retry of a dead-lettered push (called with the officer's own access
    /// token, so the gateway applies its own role and operator rules). Unset: the console offers no retry.
    /// </summary>
    public Uri? GatewayUrl { get; set; }

    /// <summary>
    /// Whether the console is served over HTTPS only: its cookies are then <c>Secure</c> and <c>__Host-</c> prefixed (default, and
    /// required in Production). False only for a plain-HTTP loopback run (e.g. <c>deploy/run-local.sh</c>): the cookies are
    /// then sent as the request came.
    /// </summary>
    public bool RequireHttps { get; set; } = true;

    /// <summary>How long a session lasts at most (it also ends when the officer's access token expires).</summary>
    public TimeSpan SessionLifetime { get; set; } = TimeSpan.FromHours(8);
}

/// <summary>The console's client at one trusted issuer (<c>Console:Issuers:N</c>).</summary>
public sealed class ConsoleIssuerOptions
{
    /// <summary>The <c>Name</c> of an issuer in <c>Authentication:Issuers</c>.</summary>
    public string Issuer { get; set; } = "";

    /// <summary>What the sign-in button says (default: the issuer's name).</summary>
    public string? DisplayName { get; set; }

    /// <summary>The console's client id at the provider (authorization code flow with PKCE).</summary>
    public string ClientId { get; set; } = "";

    /// <summary>The client's secret, for a confidential client; none for a public client (PKCE alone).</summary>
    public string? ClientSecret { get; set; }

    /// <summary>
    /// OIDC: the resource indicator (RFC 8707) asked for, so the access token is one the API accepts (default: the
    /// issuer's <c>Audience</c>). Entra: unused (the scope names the API).
    /// </summary>
    public string? Resource { get; set; }

    /// <summary>Scopes asked for besides <c>openid</c> (Entra default: <c>api://ClientId/.default</c> of the API).</summary>
    public List<string> Scopes { get; set; } = [];
}
