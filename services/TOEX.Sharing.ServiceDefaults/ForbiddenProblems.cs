using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Authorization.Infrastructure;
using Microsoft.AspNetCore.Authorization.Policy;
using Microsoft.AspNetCore.Http;

namespace TOEX.Sharing.ServiceDefaults;

/// <summary>
/// A caller refused by a route's authorisation policy gets a problem+json that says what to do: the role the
/// route needs (<c>role</c>; problem type <c>missing-role</c>), or that its token names no organisation
/// (<c>missing-organisation</c>). It names only what the route requires, never what the caller holds or anything
/// about the resource. A caller not authenticated is challenged as before (401); a request let through is
/// handled as before.
/// </summary>
public sealed class ForbiddenProblems : IAuthorizationMiddlewareResultHandler
{
    private readonly AuthorizationMiddlewareResultHandler _default = new();

    public Task HandleAsync(RequestDelegate next, HttpContext context, AuthorizationPolicy policy, PolicyAuthorizationResult authorizeResult)
    {
        if (!authorizeResult.Forbidden)
        {
            return _default.HandleAsync(next, context, policy, authorizeResult);
        }
        return Describe(authorizeResult.AuthorizationFailure).ExecuteAsync(context);
    }

    /// <summary>The problem for a refusal: the first requirement the caller failed, in the policy's order.</summary>
    public static IResult Describe(AuthorizationFailure? failure)
    {
        var failed = failure?.FailedRequirements.ToList() ?? [];
        if (failed.OfType<RolesAuthorizationRequirement>().FirstOrDefault() is { } roles)
        {
            var needed = roles.AllowedRoles.ToList();
            var named = string.Join(" or ", needed);
            var problem = Problems.Status(StatusCodes.Status403Forbidden, "missing-role",
                $"This route needs the role {named}.",
                $"Ask your identity provider's administrator to grant {named} to the calling user or application (the token's 'roles' claim).");
            problem.ProblemDetails.Extensions["role"] = needed.Count == 1 ? needed[0] : needed;
            return problem;
        }
        if (failed.OfType<ClaimsAuthorizationRequirement>().Any(c => c.ClaimType == Authentication.OrganisationClaim))
        {
            var problem = Problems.Status(StatusCodes.Status403Forbidden, "missing-organisation",
                "The token names no organisation.",
                $"The token must carry the caller's organisation (partner id) in the '{Authentication.OrganisationClaim}' claim, or its issuer must map the calling application to one.");
            problem.ProblemDetails.Extensions["claim"] = Authentication.OrganisationClaim;
            return problem;
        }
        return Problems.Status(StatusCodes.Status403Forbidden, "forbidden", "The caller may not use this route.");
    }
}
