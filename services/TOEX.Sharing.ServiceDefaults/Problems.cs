using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;

namespace TOEX.Sharing.ServiceDefaults;

/// <summary>RFC 9457 problem details with stable <c>type</c> URIs: the one error shape of every service.</summary>
public static class Problems
{
    private const string TypeBase = "https://toex.sharing/problems/";

    public static ValidationProblem Validation(IDictionary<string, string[]> errors) =>
        TypedResults.ValidationProblem(errors, title: "The request is invalid.", type: TypeBase + "validation");

    public static ProblemHttpResult Status(int status, string slug, string title, string? detail = null) =>
        TypedResults.Problem(new ProblemDetails { Status = status, Type = TypeBase + slug, Title = title, Detail = detail });
}
