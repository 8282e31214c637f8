using System.Globalization;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using TOEX.Sharing.Audit.Agreements;
using TOEX.Sharing.ServiceDefaults;

namespace TOEX.Sharing.Audit.Apis;

/// <summary><c>GET /api/v1/agreements?at=yyyy-MM-dd</c> (role <c>Policies.Read</c>): the agreement register with status and warnings.</summary>
public static class AgreementsApi
{
    public static RouteGroupBuilder MapAgreementsApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api/v1/agreements").RequireAuthorization(Roles.PoliciesRead).RefuseUnknownQueryParameters();
        api.MapGet("/", List);
        return api;
    }

    /// <summary>The register as on <c>at</c> (default: today, UTC): status, whether in force, and review and expiry warnings.</summary>
    public static Results<Ok<AgreementRegisterView>, ValidationProblem> List(
        [FromQuery] string? at, AgreementRegister register, TimeProvider time, HttpContext http)
    {
        var day = DateOnly.FromDateTime(time.GetUtcNow().UtcDateTime);
        if (at is not null && !DateOnly.TryParseExact(at, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out day))
        {
            return Problems.Validation(new Dictionary<string, string[]> { ["at"] = ["Must be a date, yyyy-MM-dd."] });
        }
        return TypedResults.Ok(register.For(http.User, day));
    }
}
