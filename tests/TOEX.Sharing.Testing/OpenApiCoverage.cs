using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace TOEX.Sharing.Testing;

/// <summary>
/// Checks a service's OpenAPI description against the routes it maps (read from its <see cref="EndpointDataSource"/>,
/// like <see cref="RouteMatrix"/>): every route is described, with the role it requires as its security requirement
/// (none for an anonymous route), a success answer with its content, and every error answer as problem+json.
/// </summary>
public static partial class OpenApiCoverage
{
    private const string ProblemJson = "application/problem+json";

    /// <summary>
    /// Reads the description from <paramref name="anonymous"/> (a client without a token) at <paramref name="path"/>,
    /// checks it with <see cref="AssertDescribes"/> and returns it.
    /// </summary>
    public static async Task<JsonObject> AssertServedAndDescribesAsync(HttpClient anonymous, string path, IServiceProvider services)
    {
        using var response = await anonymous.GetAsync(new Uri(path, UriKind.Relative));
        Xunit.Assert.True(response.IsSuccessStatusCode, $"GET {path} without a token: {(int)response.StatusCode}");
        var document = System.Text.Json.Nodes.JsonNode.Parse(await response.Content.ReadAsStringAsync())!.AsObject();
        AssertDescribes(services, document);
        return document;
    }

    /// <summary>Fails naming every route missing from the description and every way a described route is wrong.</summary>
    public static void AssertDescribes(IServiceProvider services, JsonObject document)
    {
        var failures = Verify(services, document);
        Xunit.Assert.True(failures.Count == 0,
            "The OpenAPI description does not match the mapped routes (describe each route where it is mapped: "
            + ".Produces<T>(), .Accepts<T>(), .ProducesProblem(status)):\n" + string.Join("\n", failures));
    }

    /// <summary>Every failure (empty when the description covers every route correctly).</summary>
    public static IReadOnlyList<string> Verify(IServiceProvider services, JsonObject document)
    {
        var failures = new List<string>();
        if ((string?)document["openapi"] is not { } version || !version.StartsWith("3.1", StringComparison.Ordinal))
        {
            failures.Add($"the document is OpenAPI {(string?)document["openapi"] ?? "(no version)"}, not 3.1");
        }
        var paths = document["paths"]?.AsObject() ?? [];
        // The console's pages are HTML for an officer's browser, documented in docs/api.md's "IG console" section, not API.
        foreach (var endpoint in services.GetRequiredService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>().Where(e => !RouteMatrix.IsPage(e)))
        {
            var pattern = "/" + endpoint.RoutePattern.RawText!.TrimStart('/');
            var methods = endpoint.Metadata.GetMetadata<Microsoft.AspNetCore.Routing.IHttpMethodMetadata>()?.HttpMethods ?? ["*"];
            foreach (var method in methods)
            {
                var route = $"{method} {pattern}";
                var path = PathOf(pattern);
                var operation = paths[path]?[method == "*" ? "get" : method.ToLowerInvariant()]?.AsObject();
                if (operation is null)
                {
                    failures.Add($"{route}: missing (no '{(method == "*" ? "get" : method.ToLowerInvariant())}' under '{path}')");
                    continue;
                }
                failures.AddRange(CheckOperation(route, endpoint, operation));
            }
        }
        return failures;
    }

    private static IEnumerable<string> CheckOperation(string route, RouteEndpoint endpoint, JsonObject operation)
    {
        var security = operation["security"]?.AsArray();
        if (endpoint.Metadata.GetMetadata<IAllowAnonymous>() is not null)
        {
            if (security is not { Count: 0 })
            {
                yield return $"{route}: anonymous, but its security is not [] ({security?.ToJsonString() ?? "absent"})";
            }
        }
        else
        {
            var roles = endpoint.Metadata.GetOrderedMetadata<IAuthorizeData>().Select(a => a.Policy).OfType<string>().Order(StringComparer.Ordinal).ToList();
            var described = security?.SelectMany(requirement => requirement!.AsObject().Select(scheme => scheme.Value!.AsArray().Select(r => (string)r!)))
                .SelectMany(r => r).Order(StringComparer.Ordinal).ToList();
            if (described is null || security!.Count == 0)
            {
                yield return $"{route}: requires a token{(roles.Count > 0 ? $" and {string.Join(", ", roles)}" : "")}, but no security requirement is described";
            }
            else if (!described.SequenceEqual(roles))
            {
                yield return $"{route}: requires [{string.Join(", ", roles)}], described as [{string.Join(", ", described)}]";
            }
            if (operation["responses"]?["401"] is null)
            {
                yield return $"{route}: no 401 answer described";
            }
            if (roles.Count > 0 && operation["responses"]?["403"] is null)
            {
                yield return $"{route}: no 403 answer described";
            }
        }

        var responses = operation["responses"]?.AsObject() ?? [];
        // Health answers its own JSON (status and checks) when unhealthy, as probes and load balancers expect.
        var health = operation["tags"]?.AsArray().Any(t => (string?)t == "health") == true;
        if (!responses.Any(r => r.Key.StartsWith('2')))
        {
            yield return $"{route}: no success answer described";
        }
        foreach (var (status, response) in responses)
        {
            var content = response?["content"]?.AsObject();
            if (status.StartsWith('2') && status != "204" && (content is null || content.Count == 0 || content.Any(c => c.Value?["schema"] is null)))
            {
                yield return $"{route}: its {status} answer has no content schema";
            }
            if (status[0] is '4' or '5' && !health && (content is null || !content.ContainsKey(ProblemJson)))
            {
                yield return $"{route}: its {status} answer is not {ProblemJson}";
            }
        }
    }

    /// <summary>A route pattern as an OpenAPI path: <c>{id:guid}</c> is <c>{id}</c>, no trailing slash.</summary>
    public static string PathOf(string pattern)
    {
        var path = Constraint().Replace(pattern, "{$1}");
        return path.Length > 1 ? path.TrimEnd('/') : path;
    }

    [GeneratedRegex(@"\{\*?([A-Za-z0-9_]+)(:[^}]*)?\??\}")]
    private static partial Regex Constraint();
}
