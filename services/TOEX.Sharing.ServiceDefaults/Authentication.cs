using System.Security.Claims;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Microsoft.Identity.Web;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using TOEX.Sharing.Sealing;

namespace TOEX.Sharing.ServiceDefaults;

/// <summary>The development issuer: for local runs and tests only.</summary>
public sealed class DevIssuerOptions
{
    public const string Section = "Authentication:DevIssuer";

    public bool Enabled { get; set; } = true;

    /// <summary>Where its key lives; default <c>TOEX_DEV_ISSUER_DIR</c> or <c>&lt;repo&gt;/.local/dev-issuer</c>.</summary>
    public string? Directory { get; set; }
}

public static class Authentication
{
    public const string OrganisationClaim = "org";
    public const string RolesClaim = "roles";
    public const string SubjectClaim = "sub";
    public const string IssuersSection = "Authentication:Issuers";

    /// <summary>The default scheme: routes a bearer token to the scheme of its issuer.</summary>
    public const string Scheme = "toex";
    public const string DevIssuerScheme = "dev-issuer";
    private const string UnknownIssuerScheme = "unknown-issuer";
    private const int MaxTokenLength = 16 * 1024;
    private static readonly string[] ClientClaims = ["azp", "appid", "client_id"];

    /// <summary>
    /// Bearer authentication for every trusted issuer (<c>Authentication:Issuers</c>, plus the
    /// development issuer outside Production) and one authorisation policy per role. A token is routed
    /// by its <c>iss</c> to that issuer's scheme, which validates it in full; a token of any other
    /// issuer is refused. Nothing is anonymous unless an endpoint says so.
    /// </summary>
    public static WebApplicationBuilder AddToexAuthentication(this WebApplicationBuilder builder)
    {
        var dev = builder.Configuration.GetSection(DevIssuerOptions.Section).Get<DevIssuerOptions>() ?? new DevIssuerOptions();
        var issuers = builder.Configuration.GetSection(IssuersSection).Get<List<TrustedIssuerOptions>>() ?? [];
        var problems = TrustedIssuers.Check(issuers, builder.Environment.IsProduction());
        if (dev.Enabled && builder.Environment.IsProduction())
        {
            problems.Add("The development issuer cannot be enabled in Production (Authentication:DevIssuer:Enabled).");
        }
        if (!dev.Enabled && issuers.Count == 0)
        {
            problems.Add("Authentication:DevIssuer:Enabled is false and Authentication:Issuers is empty: the service would accept nobody.");
        }
        if (problems.Count > 0)
        {
            throw new OptionsValidationException(IssuersSection, typeof(TrustedIssuerOptions), problems);
        }

        var routes = new Dictionary<string, string>(StringComparer.Ordinal);
        var authentication = builder.Services.AddAuthentication(Scheme)
            .AddPolicyScheme(Scheme, "TOEX bearer token", options => options.ForwardDefaultSelector = context => Route(context, routes))
            .AddScheme<AuthenticationSchemeOptions, UnknownIssuerHandler>(UnknownIssuerScheme, null);

        if (dev.Enabled)
        {
            var issuer = DevIssuer.OpenOrCreate(dev.Directory ?? DevIssuer.DefaultDirectory(), TimeProvider.System);
            builder.Services.AddSingleton(issuer);
            authentication.AddJwtBearer(DevIssuerScheme, jwt =>
            {
                Harden(jwt, DevIssuer.Issuer, [DevIssuer.Audience], [SecurityAlgorithms.EcdsaSha256], ["at+jwt"], TimeSpan.FromSeconds(60));
                jwt.TokenValidationParameters.IssuerSigningKey = issuer.SigningKeyForValidation;
            });
            routes[DevIssuer.Issuer] = DevIssuerScheme;
        }

        foreach (var trusted in issuers)
        {
            var scheme = SchemeOf(trusted);
            if (trusted.Kind == IssuerKind.Entra)
            {
                AddEntra(builder.Services, authentication, trusted, scheme);
            }
            else
            {
                authentication.AddJwtBearer(scheme, jwt =>
                {
                    jwt.Authority = trusted.Authority;
                    jwt.RequireHttpsMetadata = trusted.RequireHttpsMetadata;
                    Harden(jwt, TrustedIssuers.IssuerOf(trusted), [trusted.Audience!], TrustedIssuers.AlgorithmsOf(trusted),
                        TrustedIssuers.TypesOf(trusted), trusted.ClockSkew);
                    jwt.Events = new JwtBearerEvents { OnTokenValidated = context => ApplyOrganisation(context, trusted) };
                });
            }
            foreach (var iss in TrustedIssuers.IssuerValuesOf(trusted))
            {
                routes[iss] = scheme;
            }
        }

        builder.Services.AddAuthorizationBuilder()
            .SetFallbackPolicy(new AuthorizationPolicyBuilder().RequireAuthenticatedUser().Build())
            .AddRolePolicies();
        return builder;
    }

    /// <summary>Microsoft Entra ID through Microsoft.Identity.Web, hardened as every other issuer.</summary>
    private static void AddEntra(IServiceCollection services, AuthenticationBuilder authentication, TrustedIssuerOptions trusted, string scheme)
    {
        authentication.AddMicrosoftIdentityWebApi(
            _ => { },
            identity =>
            {
                identity.Instance = TrustedIssuers.EntraInstanceOf(trusted);
                identity.TenantId = trusted.TenantId;
                identity.ClientId = trusted.ClientId;
            },
            scheme);
        services.PostConfigure<JwtBearerOptions>(scheme, jwt =>
        {
            var audiences = trusted.Audience is { Length: > 0 } audience ? [audience] : new[] { $"api://{trusted.ClientId}", trusted.ClientId! };
            var validated = jwt.Events?.OnTokenValidated;
            Harden(jwt, TrustedIssuers.IssuerOf(trusted), audiences, TrustedIssuers.AlgorithmsOf(trusted), TrustedIssuers.TypesOf(trusted), trusted.ClockSkew);
            jwt.TokenValidationParameters.ValidIssuers = TrustedIssuers.IssuerValuesOf(trusted);
            jwt.Events ??= new JwtBearerEvents();
            jwt.Events.OnTokenValidated = async context =>
            {
                if (validated is not null)
                {
                    await validated(context);
                }
                if (context.Result is null)
                {
                    await ApplyOrganisation(context, trusted);
                }
            };
        });
    }

    /// <summary>The checks every issuer's tokens pass (API.md; issue 5's attack list).</summary>
    private static void Harden(JwtBearerOptions jwt, string issuer, IReadOnlyList<string> audiences, IReadOnlyList<string> algorithms,
        IReadOnlyList<string> types, TimeSpan clockSkew)
    {
        jwt.MapInboundClaims = false;
        jwt.IncludeErrorDetails = false;
        jwt.SaveToken = false;
        jwt.RefreshOnIssuerKeyNotFound = true;
        jwt.TokenValidationParameters = new TokenValidationParameters
        {
            ValidIssuer = issuer,
            ValidAudiences = audiences,
            ValidAlgorithms = algorithms,
            ValidTypes = types,
            RequireAudience = true,
            RequireExpirationTime = true,
            RequireSignedTokens = true,
            ValidateIssuer = true,
            ValidateAudience = true,
            ValidateLifetime = true,
            ValidateIssuerSigningKey = true,
            // An unknown kid is refused: never try every key of the issuer on a token that names another.
            TryAllIssuerSigningKeys = false,
            ClockSkew = clockSkew > TimeSpan.FromSeconds(60) ? TimeSpan.FromSeconds(60) : clockSkew,
            NameClaimType = SubjectClaim,
            RoleClaimType = RolesClaim,
        };
    }

    /// <summary>
    /// Sets the one <c>org</c> claim the services rely on from what the issuer may assert, and the
    /// <c>roles</c> claims from the issuer's roles claim. Fails the token otherwise.
    /// </summary>
    private static Task ApplyOrganisation(TokenValidatedContext context, TrustedIssuerOptions trusted)
    {
        if (context.Principal?.Identity is not ClaimsIdentity identity)
        {
            context.Fail("The token carries no identity.");
            return Task.CompletedTask;
        }

        var client = ClientClaims.Select(identity.FindFirst).FirstOrDefault(claim => claim is not null)?.Value;
        if (TrustedIssuers.TypesOf(trusted).Contains("JWT", StringComparer.OrdinalIgnoreCase)
            && (client is null || identity.HasClaim(claim => claim.Type is "nonce" or "at_hash" or "c_hash")))
        {
            // Where access tokens are typed plain JWT (Entra ID), the type cannot tell an ID token from an access
            // token: an access token names the client it was issued to (azp, appid or client_id) and an ID token
            // carries sign-in claims (nonce, at_hash, c_hash).
            context.Fail("An ID token is not an access token.");
            return Task.CompletedTask;
        }

        var asserted = identity.FindAll(trusted.OrganisationClaim).Select(claim => claim.Value).Distinct(StringComparer.Ordinal).ToList();
        string? clientOrganisation = client is not null && trusted.Clients.TryGetValue(client, out var mapped) ? mapped : null;
        var organisation = asserted.Count switch
        {
            0 => clientOrganisation ?? (trusted.Organisations.Count == 1 ? trusted.Organisations[0] : null),
            1 when clientOrganisation is null || clientOrganisation == asserted[0] => asserted[0],
            _ => null,
        };
        if (organisation is null || !trusted.Organisations.Contains(organisation, StringComparer.Ordinal))
        {
            context.Fail($"Issuer '{trusted.Name}' may not speak for the organisation the token names.");
            return Task.CompletedTask;
        }

        foreach (var claim in identity.FindAll(OrganisationClaim).ToList())
        {
            identity.RemoveClaim(claim);
        }
        identity.AddClaim(new Claim(OrganisationClaim, organisation, ClaimValueTypes.String, trusted.Name));
        if (trusted.RolesClaim != RolesClaim)
        {
            foreach (var role in identity.FindAll(trusted.RolesClaim).Select(claim => claim.Value).ToList())
            {
                identity.AddClaim(new Claim(RolesClaim, role, ClaimValueTypes.String, trusted.Name));
            }
        }
        return Task.CompletedTask;
    }

    /// <summary>The scheme of the token's issuer, read (unvalidated) only to choose who validates it.</summary>
    private static string Route(HttpContext context, Dictionary<string, string> routes)
    {
        var header = context.Request.Headers.Authorization.ToString();
        const string prefix = "Bearer ";
        if (!header.StartsWith(prefix, StringComparison.OrdinalIgnoreCase) || header.Length > prefix.Length + MaxTokenLength)
        {
            return UnknownIssuerScheme;
        }
        try
        {
            var token = new JsonWebToken(header[prefix.Length..].Trim());
            return routes.TryGetValue(token.Issuer, out var scheme) ? scheme : UnknownIssuerScheme;
        }
        catch (ArgumentException)
        {
            return UnknownIssuerScheme;
        }
        catch (SecurityTokenException)
        {
            return UnknownIssuerScheme;
        }
    }

    private static AuthorizationBuilder AddRolePolicies(this AuthorizationBuilder authorization)
    {
        foreach (var role in Roles.All)
        {
            authorization.AddPolicy(role, policy => policy.RequireAuthenticatedUser()
                .RequireRole(role)
                .RequireClaim(OrganisationClaim));
        }
        return authorization;
    }

    /// <summary>The bearer scheme that validates the tokens of a trusted issuer (also what the IG console's sign-in validates with).</summary>
    public static string SchemeOf(TrustedIssuerOptions issuer) => "issuer-" + issuer?.Name;

    /// <summary>The caller's organisation (a partner id), from the <c>org</c> claim.</summary>
    public static string Organisation(this ClaimsPrincipal user) =>
        user.FindFirstValue(OrganisationClaim) ?? throw new InvalidOperationException("The caller has no organisation claim.");

    /// <summary>Who the caller is, for the audit trail: organisation and subject.</summary>
    public static string Actor(this ClaimsPrincipal user) =>
        $"{user.FindFirstValue(OrganisationClaim) ?? "?"}/{user.FindFirstValue(SubjectClaim) ?? "?"}";
}
