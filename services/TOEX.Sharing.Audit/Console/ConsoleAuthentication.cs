using System.Security.Claims;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.Authentication.OpenIdConnect;
using Microsoft.AspNetCore.Authorization;
using Microsoft.Extensions.Options;
using Microsoft.Identity.Web;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Protocols.OpenIdConnect;
using TOEX.Sharing.ServiceDefaults;

namespace TOEX.Sharing.Audit.Console;

/// <summary>
/// How an IG officer signs in to the console: the OpenID Connect authorization code flow with PKCE at one of the
/// issuers of <c>Authentication:Issuers</c> (Entra ID through Microsoft.Identity.Web), then a session cookie
/// (<c>__Host-</c>, Secure, HttpOnly, SameSite=Lax). The access token the flow obtains for the API is validated by
/// the API's own bearer scheme for that issuer, so the console applies exactly the API's rules: signature, issuer,
/// audience, token type, the organisation the issuer may speak for, the roles it may grant. The session carries what
/// that validation produced, and ends when the access token expires. A development sign-in (a development-issuer
/// token, validated the same way) exists only in the <c>Development</c> environment.
/// </summary>
public static class ConsoleAuthentication
{
    public const string CookieScheme = "console";
    public const string CookieName = "toex-console";
    public const string AntiforgeryCookieName = "toex-console-af";

    /// <summary>The cookie's name: <c>__Host-</c> prefixed (Secure, path /, no domain: the browser enforces all three) over HTTPS.</summary>
    public static string Named(string name, bool https) => https ? "__Host-" + name : name;

    /// <summary>Any signed-in officer (cookie session with an organisation).</summary>
    public const string Policy = "console";

    /// <summary>The session's justification for consulting personal data (DPA 2018 s62), once given.</summary>
    public const string JustificationClaim = "toex:justification";

    /// <summary>Which sign-in made the session (an issuer's name, or <see cref="DevelopmentSignIn"/>).</summary>
    public const string SignInClaim = "toex:sign-in";

    public const string DevelopmentSignIn = "development";
    public const string AccessTokenName = "access_token";

    /// <summary>
    /// The clock cookies and sign-in state expire by: the wall clock, which is the browser's. (<c>Clock:StartsAt</c> moves
    /// the services' clock for tests and demonstrations; a cookie expiring by it would be expired on arrival.)
    /// </summary>
    public static readonly TimeProvider CookieClock = TimeProvider.System;

    public static string RolePolicy(string role) => $"{Policy}:{role}";

    public static string SchemeOf(ConsoleIssuerOptions issuer) => "console-" + issuer.Issuer;

    public static string CallbackOf(ConsoleIssuerOptions issuer) => "/signin-oidc/" + issuer.Issuer;

    public static WebApplicationBuilder AddConsoleAuthentication(this WebApplicationBuilder builder)
    {
        builder.Services.AddOptions<ConsoleOptions>().BindConfiguration(ConsoleOptions.Section)
            .Validate(o => o.SessionLifetime > TimeSpan.Zero && o.SessionLifetime <= TimeSpan.FromHours(24),
                "Console:SessionLifetime must be between 0 and 24 hours.")
            .Validate(o => o.GatewayUrl is null || (o.GatewayUrl.IsAbsoluteUri && o.GatewayUrl.Scheme is "http" or "https"),
                "Console:GatewayUrl must be an absolute http(s) URL.")
            .ValidateOnStart();
        var console = builder.Configuration.GetSection(ConsoleOptions.Section).Get<ConsoleOptions>() ?? new ConsoleOptions();
        var trusted = builder.Configuration.GetSection(ServiceDefaults.Authentication.IssuersSection).Get<List<TrustedIssuerOptions>>() ?? [];
        var problems = Check(console, trusted, builder.Environment.IsProduction());
        if (problems.Count > 0)
        {
            throw new OptionsValidationException(ConsoleOptions.Section, typeof(ConsoleOptions), problems);
        }

        var secure = console.RequireHttps ? CookieSecurePolicy.Always : CookieSecurePolicy.SameAsRequest;
        var authentication = builder.Services.AddAuthentication().AddCookie(CookieScheme, cookie =>
        {
            cookie.TimeProvider = CookieClock;
            cookie.Cookie.Name = Named(CookieName, console.RequireHttps);
            cookie.Cookie.HttpOnly = true;
            cookie.Cookie.SecurePolicy = secure;
            // Lax, not Strict: the return from the identity provider is a cross-site navigation, on which a Strict
            // cookie set in the same redirect chain is not sent. Every form carries an anti-forgery token besides.
            cookie.Cookie.SameSite = SameSiteMode.Lax;
            cookie.Cookie.IsEssential = true;
            cookie.LoginPath = "/signin";
            cookie.LogoutPath = "/signout";
            cookie.AccessDeniedPath = "/denied";
            cookie.ReturnUrlParameter = "returnUrl";
            cookie.SlidingExpiration = false;
            cookie.ExpireTimeSpan = console.SessionLifetime;
        });

        foreach (var client in console.Issuers)
        {
            var issuer = trusted.Single(t => t.Name == client.Issuer);
            if (issuer.Kind == IssuerKind.Entra)
            {
                AddEntraSignIn(builder.Services, authentication, issuer, client, secure);
            }
            else
            {
                authentication.AddOpenIdConnect(SchemeOf(client), client.DisplayName ?? client.Issuer, oidc =>
                {
                    oidc.Authority = issuer.Authority;
                    oidc.RequireHttpsMetadata = issuer.RequireHttpsMetadata;
                    oidc.ClientId = client.ClientId;
                    oidc.ClientSecret = client.ClientSecret;
                    oidc.CallbackPath = CallbackOf(client);
                    var resource = client.Resource ?? issuer.Audience;
                    Harden(oidc, client, issuer, secure, extra: message => message.Resource = resource);
                });
            }
        }

        builder.Services.AddAuthorizationBuilder()
            .AddPolicy(Policy, policy => policy.AddAuthenticationSchemes(CookieScheme).RequireAuthenticatedUser()
                .RequireClaim(ServiceDefaults.Authentication.OrganisationClaim))
            .AddConsoleRolePolicies();
        builder.Services.AddAntiforgery(antiforgery =>
        {
            antiforgery.Cookie.Name = Named(AntiforgeryCookieName, console.RequireHttps);
            antiforgery.Cookie.SecurePolicy = secure;
            antiforgery.Cookie.SameSite = SameSiteMode.Strict;
            antiforgery.Cookie.HttpOnly = true;
            antiforgery.FormFieldName = "__af";
        });
        return builder;
    }

    private static AuthorizationBuilder AddConsoleRolePolicies(this AuthorizationBuilder authorization)
    {
        foreach (var role in Roles.All)
        {
            authorization.AddPolicy(RolePolicy(role), policy => policy.AddAuthenticationSchemes(CookieScheme).RequireAuthenticatedUser()
                .RequireClaim(ServiceDefaults.Authentication.OrganisationClaim).RequireRole(role));
        }
        return authorization;
    }

    /// <summary>Every problem with <c>Console:Issuers</c>, one line each, naming the setting.</summary>
    public static List<string> Check(ConsoleOptions console, IReadOnlyList<TrustedIssuerOptions> trusted, bool production)
    {
        var problems = new List<string>();
        for (var i = 0; i < console.Issuers.Count; i++)
        {
            var client = console.Issuers[i];
            var at = $"{ConsoleOptions.Section}:Issuers:{i}";
            if (trusted.All(t => t.Name != client.Issuer))
            {
                problems.Add($"{at}:Issuer '{client.Issuer}' is not the Name of an issuer in {ServiceDefaults.Authentication.IssuersSection}.");
            }
            if (string.IsNullOrWhiteSpace(client.ClientId))
            {
                problems.Add($"{at}:ClientId is required (the console's client id at that provider).");
            }
            if (console.Issuers.Take(i).Any(other => other.Issuer == client.Issuer))
            {
                problems.Add($"{at}:Issuer '{client.Issuer}' is configured twice.");
            }
        }
        if (production && !console.RequireHttps)
        {
            problems.Add($"{ConsoleOptions.Section}:RequireHttps cannot be false in Production (the session cookie must be Secure).");
        }
        if (production && console.GatewayUrl is { Scheme: "http" } gateway && !gateway.IsLoopback)
        {
            problems.Add($"{ConsoleOptions.Section}:GatewayUrl must be https in Production (officers' tokens are sent to it).");
        }
        return problems;
    }

    /// <summary>Entra ID through Microsoft.Identity.Web's web-app sign-in, then the same access-token validation.</summary>
    private static void AddEntraSignIn(IServiceCollection services, AuthenticationBuilder authentication, TrustedIssuerOptions issuer,
        ConsoleIssuerOptions client, CookieSecurePolicy secure)
    {
        var scheme = SchemeOf(client);
        authentication.AddMicrosoftIdentityWebApp(identity =>
        {
            identity.Instance = TrustedIssuers.EntraInstanceOf(issuer);
            identity.TenantId = issuer.TenantId;
            identity.ClientId = client.ClientId;
            identity.ClientSecret = client.ClientSecret;
            identity.CallbackPath = CallbackOf(client);
        }, openIdConnectScheme: scheme, cookieScheme: null, displayName: client.DisplayName ?? client.Issuer);
        services.PostConfigure<OpenIdConnectOptions>(scheme, oidc =>
        {
            if (client.Scopes.Count == 0)
            {
                client.Scopes.Add($"api://{issuer.ClientId}/.default");
            }
            var redirect = oidc.Events.OnRedirectToIdentityProvider;
            Harden(oidc, client, issuer, secure, extra: null);
            oidc.Events.OnRedirectToIdentityProvider = async context =>
            {
                await redirect(context);
                context.ProtocolMessage.ResponseType = OpenIdConnectResponseType.Code;
            };
        });
    }

    /// <summary>Code flow with PKCE into the console's cookie; the access token validated by the API's scheme for the issuer.</summary>
    private static void Harden(OpenIdConnectOptions oidc, ConsoleIssuerOptions client, TrustedIssuerOptions issuer, CookieSecurePolicy secure,
        Action<OpenIdConnectMessage>? extra)
    {
        oidc.TimeProvider = CookieClock;
        oidc.SignInScheme = CookieScheme;
        oidc.ResponseType = OpenIdConnectResponseType.Code;
        oidc.ResponseMode = OpenIdConnectResponseMode.Query;
        oidc.UsePkce = true;
        oidc.SaveTokens = false;
        oidc.MapInboundClaims = false;
        oidc.GetClaimsFromUserInfoEndpoint = false;
        oidc.Scope.Clear();
        oidc.Scope.Add(OpenIdConnectScope.OpenId);
        foreach (var scope in client.Scopes)
        {
            oidc.Scope.Add(scope);
        }
        oidc.CorrelationCookie.SecurePolicy = secure;
        oidc.NonceCookie.SecurePolicy = secure;
        oidc.CorrelationCookie.SameSite = SameSiteMode.Lax;
        oidc.NonceCookie.SameSite = SameSiteMode.Lax;
        oidc.Events ??= new OpenIdConnectEvents();
        if (extra is not null)
        {
            oidc.Events.OnRedirectToIdentityProvider = context =>
            {
                extra(context.ProtocolMessage);
                return Task.CompletedTask;
            };
        }
        oidc.Events.OnTokenValidated = async context =>
        {
            var accessToken = context.TokenEndpointResponse?.AccessToken;
            var session = accessToken is null ? null
                : await SessionAsync(context.HttpContext, ServiceDefaults.Authentication.SchemeOf(issuer), accessToken, issuer.Name, context.Properties!);
            if (session is null)
            {
                context.Fail("The provider's access token is not one the API accepts for this issuer (organisation, roles, audience or type).");
                return;
            }
            context.Principal = session;
        };
        oidc.Events.OnRemoteFailure = context =>
        {
            context.HttpContext.RequestServices.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(ConsoleAuthentication).FullName!)
                .LogWarning("Console sign-in through {Issuer} failed: {Failure}", issuer.Name, context.Failure?.Message);
            context.Response.Redirect("/signin?failed=1");
            context.HandleResponse();
            return Task.CompletedTask;
        };
    }

    /// <summary>
    /// Validates <paramref name="accessToken"/> with the API's bearer scheme <paramref name="bearerScheme"/> and, if it
    /// passes, returns the session's principal (what that validation produced) and makes the session end when the token does.
    /// </summary>
    public static async Task<ClaimsPrincipal?> SessionAsync(HttpContext http, string bearerScheme, string accessToken, string signIn,
        AuthenticationProperties properties)
    {
        ArgumentNullException.ThrowIfNull(http);
        ArgumentNullException.ThrowIfNull(properties);
        var saved = http.Request.Headers.Authorization;
        http.Request.Headers.Authorization = "Bearer " + accessToken;
        AuthenticateResult result;
        try
        {
            result = await http.AuthenticateAsync(bearerScheme);
        }
        finally
        {
            http.Request.Headers.Authorization = saved;
        }
        if (!result.Succeeded || result.Principal.FindFirst(ServiceDefaults.Authentication.OrganisationClaim) is null)
        {
            return null;
        }
        var claims = result.Principal.Claims.Where(c => c.Type is not (JustificationClaim or SignInClaim)).ToList();
        claims.Add(new Claim(SignInClaim, signIn));
        var identity = new ClaimsIdentity(claims, CookieScheme, ServiceDefaults.Authentication.SubjectClaim, ServiceDefaults.Authentication.RolesClaim);
        // The token was issued a moment ago: the session lasts as long as it does (within Console:SessionLifetime).
        var token = new JsonWebToken(accessToken);
        var tokenLifetime = token.ValidTo - (token.IssuedAt == DateTime.MinValue ? token.ValidFrom : token.IssuedAt);
        var lifetime = http.RequestServices.GetRequiredService<IOptions<ConsoleOptions>>().Value.SessionLifetime;
        var now = CookieClock.GetUtcNow();
        properties.IssuedUtc = now;
        properties.ExpiresUtc = now + (tokenLifetime > TimeSpan.Zero && tokenLifetime < lifetime ? tokenLifetime : lifetime);
        properties.IsPersistent = false;
        properties.AllowRefresh = false;
        properties.StoreTokens([new AuthenticationToken { Name = AccessTokenName, Value = accessToken }]);
        return new ClaimsPrincipal(identity);
    }
}
