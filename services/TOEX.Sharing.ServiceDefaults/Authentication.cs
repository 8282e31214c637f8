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

    /// <summary>
    /// On by default in <c>Development</c> and the test environments (<see cref="Authentication.DevIssuerEnvironments"/>),
    /// off elsewhere; enabling it in any other environment stops the service at start.
    /// </summary>
    public bool? Enabled { get; set; }

    /// <summary>Where its key lives; default <c>TOEX_DEV_ISSUER_DIR</c> or <c>&lt;repo&gt;/.local/dev-issuer</c>.</summary>
    public string? Directory { get; set; }
}

public static class Authentication
{
    public const string OrganisationClaim = "org";
    public const string RolesClaim = "roles";
    public const string SubjectClaim = "sub";

    /// <summary>
    /// The person behind a token, stable across applications: the issuer and its subject (Entra: tenant id and object
    /// id, never the per-application <c>sub</c>). What separation of duties compares.
    /// </summary>
    public const string PersonClaim = "toex_person";
    public const string IssuersSection = "Authentication:Issuers";

    /// <summary>The environments where the development issuer may be on (and is, unless configured off).</summary>
    public static readonly IReadOnlyList<string> DevIssuerEnvironments = ["Development", "Test", "Testing"];

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
        var governance = Governance.From(builder.Configuration);
        builder.Services.AddSingleton(governance);
        var problems = TrustedIssuers.Check(issuers, builder.Environment.IsProduction());
        var devAllowed = DevIssuerEnvironments.Contains(builder.Environment.EnvironmentName, StringComparer.OrdinalIgnoreCase);
        var devEnabled = dev.Enabled ?? devAllowed;
        if (devEnabled && !devAllowed)
        {
            problems.Add($"The development issuer cannot be enabled in the '{builder.Environment.EnvironmentName}' environment, only in "
                + $"{string.Join(", ", DevIssuerEnvironments)} (Authentication:DevIssuer:Enabled).");
        }
        if (!devEnabled && issuers.Count == 0)
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

        if (devEnabled)
        {
            var issuer = DevIssuer.OpenOrCreate(dev.Directory ?? DevIssuer.DefaultDirectory(), TimeProvider.System);
            builder.Services.AddSingleton(issuer);
            authentication.AddJwtBearer(DevIssuerScheme, jwt =>
            {
                Harden(jwt, DevIssuer.Issuer, [DevIssuer.Audience], [SecurityAlgorithms.EcdsaSha256], ["at+jwt"], TimeSpan.FromSeconds(60));
                jwt.TokenValidationParameters.IssuerSigningKey = issuer.SigningKeyForValidation;
                // The development issuer may grant any role, but an operator role only to an operator organisation.
                jwt.Events = new JwtBearerEvents { OnTokenValidated = context => ApplyDevIssuer(context, governance) };
            });
            routes[DevIssuer.Issuer] = DevIssuerScheme;
        }

        foreach (var trusted in issuers)
        {
            var scheme = SchemeOf(trusted);
            if (trusted.Kind == IssuerKind.Entra)
            {
                AddEntra(builder.Services, authentication, trusted, scheme, governance);
            }
            else
            {
                authentication.AddJwtBearer(scheme, jwt =>
                {
                    jwt.Authority = trusted.Authority;
                    jwt.RequireHttpsMetadata = trusted.RequireHttpsMetadata;
                    Harden(jwt, TrustedIssuers.IssuerOf(trusted), [trusted.Audience!], TrustedIssuers.AlgorithmsOf(trusted),
                        TrustedIssuers.TypesOf(trusted), trusted.ClockSkew);
                    jwt.Events = new JwtBearerEvents { OnTokenValidated = context => ApplyOrganisation(context, trusted, governance) };
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
        builder.Services.AddSingleton<IAuthorizationMiddlewareResultHandler, ForbiddenProblems>();
        return builder;
    }

    /// <summary>Microsoft Entra ID through Microsoft.Identity.Web, hardened as every other issuer.</summary>
    private static void AddEntra(IServiceCollection services, AuthenticationBuilder authentication, TrustedIssuerOptions trusted, string scheme,
        Governance governance)
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
                    await ApplyOrganisation(context, trusted, governance);
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

    /// <summary>The development issuer's tokens: its organisation is taken as given (local runs and tests), its roles bounded like any issuer's.</summary>
    private static Task ApplyDevIssuer(TokenValidatedContext context, Governance governance)
    {
        if (context.Principal?.Identity is not ClaimsIdentity identity || identity.FindFirst(OrganisationClaim)?.Value is not { } organisation
            || identity.FindFirst(SubjectClaim)?.Value is not { } subject)
        {
            context.Fail("The token names no organisation or subject.");
            return Task.CompletedTask;
        }
        BoundRoles(identity, Roles.All, organisation, governance);
        foreach (var claim in identity.FindAll(PersonClaim).ToList())
        {
            identity.RemoveClaim(claim);
        }
        identity.AddClaim(new Claim(PersonClaim, $"{DevIssuer.Issuer}|{subject}", ClaimValueTypes.String, DevIssuer.Issuer));
        return Task.CompletedTask;
    }

    /// <summary>
    /// Keeps only the roles the issuer may grant, and an operator role only for an operator organisation (a
    /// partner's identity provider granting itself every role gets nothing it was not trusted with).
    /// </summary>
    private static void BoundRoles(ClaimsIdentity identity, IReadOnlyList<string> grantable, string organisation, Governance governance)
    {
        foreach (var claim in identity.FindAll(RolesClaim).ToList())
        {
            var keep = grantable.Contains(claim.Value, StringComparer.Ordinal)
                && (!Roles.Operator.Contains(claim.Value, StringComparer.Ordinal) || governance.IsOperator(organisation));
            if (!keep)
            {
                identity.RemoveClaim(claim);
            }
        }
    }

    /// <summary>
    /// Sets the one <c>org</c> claim the services rely on from what the issuer may assert, the <c>roles</c> claims
    /// (from the issuer's roles claim, bounded by what the issuer may grant) and the person. Fails the token otherwise.
    /// </summary>
    private static Task ApplyOrganisation(TokenValidatedContext context, TrustedIssuerOptions trusted, Governance governance)
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
            // Roles come from the issuer's own claim only: whatever the token says in 'roles' is dropped first.
            foreach (var claim in identity.FindAll(RolesClaim).ToList())
            {
                identity.RemoveClaim(claim);
            }
            foreach (var role in identity.FindAll(trusted.RolesClaim).Select(claim => claim.Value).ToList())
            {
                identity.AddClaim(new Claim(RolesClaim, role, ClaimValueTypes.String, trusted.Name));
            }
        }
        BoundRoles(identity, trusted.Roles, organisation, governance);

        var person = PersonOf(identity, trusted);
        if (person is null)
        {
            context.Fail($"Issuer '{trusted.Name}' gave no stable subject for the caller.");
            return Task.CompletedTask;
        }
        foreach (var claim in identity.FindAll(PersonClaim).ToList())
        {
            identity.RemoveClaim(claim);
        }
        identity.AddClaim(new Claim(PersonClaim, person, ClaimValueTypes.String, trusted.Name));
        return Task.CompletedTask;
    }

    /// <summary>
    /// The caller as a person, the same whichever application it signed in to: Entra's tenant and object ids (its
    /// <c>sub</c> differs per application), any other issuer's <c>iss</c> and <c>sub</c>.
    /// </summary>
    private static string? PersonOf(ClaimsIdentity identity, TrustedIssuerOptions trusted)
    {
        if (trusted.Kind == IssuerKind.Entra)
        {
            var tenant = identity.FindFirst("tid")?.Value ?? trusted.TenantId;
            var objectId = identity.FindFirst("oid")?.Value;
            return objectId is { Length: > 0 } ? $"entra|{tenant}|{objectId}" : null;
        }
        var subject = identity.FindFirst(SubjectClaim)?.Value;
        return subject is { Length: > 0 } ? $"{TrustedIssuers.IssuerOf(trusted)}|{subject}" : null;
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

    /// <summary>The person behind the caller (see <see cref="PersonClaim"/>): what separation of duties compares.</summary>
    public static string Person(this ClaimsPrincipal user) =>
        user.FindFirstValue(PersonClaim) ?? throw new InvalidOperationException("The caller has no person claim.");

    /// <summary>Who the caller is, for the audit trail: organisation and subject.</summary>
    public static string Actor(this ClaimsPrincipal user) =>
        $"{user.FindFirstValue(OrganisationClaim) ?? "?"}/{user.FindFirstValue(SubjectClaim) ?? "?"}";
}
