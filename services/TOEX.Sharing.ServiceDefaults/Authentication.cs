using System.Security.Claims;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
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

    /// <summary>
    /// JWT bearer authentication and one authorisation policy per role. Nothing is anonymous unless an
    /// endpoint says so (the fallback policy requires an authenticated caller).
    /// </summary>
    public static WebApplicationBuilder AddToexAuthentication(this WebApplicationBuilder builder)
    {
        var options = builder.Configuration.GetSection(DevIssuerOptions.Section).Get<DevIssuerOptions>() ?? new DevIssuerOptions();
        if (!options.Enabled)
        {
            throw new OptionsValidationException(DevIssuerOptions.Section, typeof(DevIssuerOptions),
                ["Authentication:DevIssuer:Enabled is false and no other issuer is configured yet: the service would accept nobody."]);
        }
        if (builder.Environment.IsProduction())
        {
            throw new OptionsValidationException(DevIssuerOptions.Section, typeof(DevIssuerOptions),
                ["The development issuer cannot be enabled in Production (Authentication:DevIssuer:Enabled)."]);
        }

        var issuer = DevIssuer.OpenOrCreate(options.Directory ?? DevIssuer.DefaultDirectory(), TimeProvider.System);
        builder.Services.AddSingleton(issuer);
        builder.Services.AddAuthentication(JwtBearerDefaults.AuthenticationScheme)
            .AddJwtBearer(jwt =>
            {
                jwt.MapInboundClaims = false;
                jwt.IncludeErrorDetails = false;
                jwt.TokenValidationParameters = new TokenValidationParameters
                {
                    ValidIssuer = DevIssuer.Issuer,
                    ValidAudience = DevIssuer.Audience,
                    IssuerSigningKey = issuer.SigningKeyForValidation,
                    ValidAlgorithms = [SecurityAlgorithms.EcdsaSha256],
                    ValidTypes = ["at+jwt"],
                    RequireExpirationTime = true,
                    RequireSignedTokens = true,
                    ValidateLifetime = true,
                    ClockSkew = TimeSpan.FromSeconds(60),
                    NameClaimType = SubjectClaim,
                    RoleClaimType = RolesClaim,
                };
            });

        builder.Services.AddAuthorizationBuilder()
            .SetFallbackPolicy(new Microsoft.AspNetCore.Authorization.AuthorizationPolicyBuilder()
                .RequireAuthenticatedUser().Build())
            .AddRolePolicies();
        return builder;
    }

    private static Microsoft.AspNetCore.Authorization.AuthorizationBuilder AddRolePolicies(
        this Microsoft.AspNetCore.Authorization.AuthorizationBuilder authorization)
    {
        foreach (var role in Roles.All)
        {
            authorization.AddPolicy(role, policy => policy.RequireAuthenticatedUser()
                .RequireRole(role)
                .RequireClaim(OrganisationClaim));
        }
        return authorization;
    }

    /// <summary>The caller's organisation (a partner id), from the <c>org</c> claim.</summary>
    public static string Organisation(this ClaimsPrincipal user) =>
        user.FindFirstValue(OrganisationClaim) ?? throw new InvalidOperationException("The caller has no organisation claim.");

    /// <summary>Who the caller is, for the audit trail: organisation and subject.</summary>
    public static string Actor(this ClaimsPrincipal user) =>
        $"{user.FindFirstValue(OrganisationClaim) ?? "?"}/{user.FindFirstValue(SubjectClaim) ?? "?"}";
}
