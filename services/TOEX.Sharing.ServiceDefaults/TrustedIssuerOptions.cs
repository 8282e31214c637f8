namespace TOEX.Sharing.ServiceDefaults;

/// <summary>What kind of issuer a <see cref="TrustedIssuerOptions"/> describes.</summary>
public enum IssuerKind
{
    /// <summary>Any OpenID Connect issuer (Keycloak, ADFS, …), found by its authority's discovery document.</summary>
    Oidc,

    /// <summary>Microsoft Entra ID, through Microsoft.Identity.Web.</summary>
    Entra,
}

/// <summary>
/// One issuer the service trusts (<c>Authentication:Issuers:N</c>), and the organisations it may
/// speak for. A token is routed to its issuer by its <c>iss</c> claim and then validated in full by
/// that issuer's rules only; an issuer cannot assert an organisation outside <see cref="Organisations"/>.
/// </summary>
public sealed class TrustedIssuerOptions
{
    /// <summary>A short name, used for the authentication scheme and in logs.</summary>
    public string Name { get; set; } = "";

    public IssuerKind Kind { get; set; } = IssuerKind.Oidc;

    /// <summary>OIDC: the authority whose <c>/.well-known/openid-configuration</c> gives the JWKS.</summary>
    public string? Authority { get; set; }

    /// <summary>OIDC: the exact <c>iss</c> value (default: the authority without a trailing slash).</summary>
    public string? Issuer { get; set; }

    /// <summary>The audience an access token must be for (OIDC; for Entra default <c>api://ClientId</c> and ClientId).</summary>
    public string? Audience { get; set; }

    /// <summary>Entra: the instance (default <c>https://login.microsoftonline.com/</c>).</summary>
    public string? Instance { get; set; }

    /// <summary>Entra: the directory (tenant) id.</summary>
    public string? TenantId { get; set; }

    /// <summary>Entra: the API's application (client) id.</summary>
    public string? ClientId { get; set; }

    /// <summary>The organisations (partner ids) this issuer may speak for. Required, at least one.</summary>
    public List<string> Organisations { get; set; } = [];

    /// <summary>
    /// The claim naming the caller's organisation (default <c>org</c>). When a token has none, the
    /// organisation comes from <see cref="Clients"/> (by <c>azp</c>, <c>appid</c> or <c>client_id</c>)
    /// or, when <see cref="Organisations"/> holds exactly one, is that one.
    /// </summary>
    public string OrganisationClaim { get; set; } = Authentication.OrganisationClaim;

    /// <summary>Client application id → organisation, for client-credentials tokens that name no organisation.</summary>
    public Dictionary<string, string> Clients { get; set; } = [];

    /// <summary>The claim holding application roles (default <c>roles</c>, as Entra app roles).</summary>
    public string RolesClaim { get; set; } = Authentication.RolesClaim;

    /// <summary>
    /// The roles this issuer may grant (of <see cref="ServiceDefaults.Roles.All"/>). Required: a role a token of this
    /// issuer carries outside this list is dropped, so an organisation's own identity provider cannot grant itself
    /// more than it was trusted with. Operator roles are further kept only for <c>Operations:Organisations</c>.
    /// </summary>
    public List<string> Roles { get; set; } = [];

    /// <summary>Accepted signature algorithms (default RS256, PS256, ES256). Never <c>none</c> or HMAC.</summary>
    public List<string> Algorithms { get; set; } = [];

    /// <summary>Accepted JOSE <c>typ</c> values (default <c>at+jwt</c> for OIDC, RFC 9068; <c>JWT</c> for Entra).</summary>
    public List<string> TokenTypes { get; set; } = [];

    /// <summary>Allowed clock skew; at most 60 s whatever is configured.</summary>
    public TimeSpan ClockSkew { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>Discovery over plain HTTP: for loopback issuers in tests; refused in Production.</summary>
    public bool RequireHttpsMetadata { get; set; } = true;
}
