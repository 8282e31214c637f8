using System.Net;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace TOEX.Sharing.Testing;

/// <summary>How a route guards what it touches, beyond its role.</summary>
public enum Ownership
{
    /// <summary>Nothing belongs to anyone (tree heads, proofs): the role is the whole check.</summary>
    None,

    /// <summary>An object of one organisation: anyone else gets 404, never a hint that it exists.</summary>
    OwnedObject,

    /// <summary>A listing of the caller's own items: anyone else's listing holds none of the owner's.</summary>
    Listing,

    /// <summary>
    /// Anyone else gets 403: the body speaks for the owner (a package's originator), or the route is for named
    /// organisations only (the ledger's custodians).
    /// </summary>
    ForbiddenToOthers,
}

/// <summary>A concrete request to a route, on something that belongs to <see cref="Owner"/>.</summary>
public sealed record RouteRequest(string Owner, string Path, Func<HttpContent>? Body = null)
{
    public Ownership Ownership { get; init; } = Ownership.OwnedObject;

    /// <summary>For <see cref="Ownership.Listing"/>: true when a response shows nothing of the owner's.</summary>
    public Func<HttpResponseMessage, Task<bool>>? ShowsNothingOfOwner { get; init; }
}

/// <summary>What the matrix expects of one route: anonymous, or a role (null: any authenticated caller) and a way to arrange a request.</summary>
public sealed record RouteRule(string Route)
{
    public bool Anonymous { get; init; }

    public string? Role { get; init; }

    public Func<Task<RouteRequest>>? Arrange { get; init; }
}

/// <summary>
/// The route-by-route authorisation matrix (issue 5): every endpoint a service maps is read from its
/// <see cref="EndpointDataSource"/>, so a new route without a rule fails the matrix rather than going
/// unchecked. For each protected route it proves: no token and a malformed token get 401; the owner's
/// token without the route's role gets 403; another organisation's token with every role gets 404 on the
/// owner's object (or sees none of the owner's items, or 403 where the route is the owner's alone); and the
/// owner with the role is let through (so every refusal above is the check under test).
/// </summary>
public static class RouteMatrix
{
    /// <summary>Every mapped route as <c>METHOD /pattern</c> (<c>*</c> for a route that takes any method).</summary>
    public static IReadOnlyList<string> Routes(IServiceProvider services) => RoutesWhere(services, _ => true);

    /// <summary>The routes of the machine interface: every route but the console's pages (<see cref="IsPage"/>).</summary>
    public static IReadOnlyList<string> ApiRoutes(IServiceProvider services) => RoutesWhere(services, e => !IsPage(e));

    /// <summary>The console's pages: Razor Pages, answered as HTML to a signed-in officer's browser.</summary>
    public static IReadOnlyList<string> PageRoutes(IServiceProvider services) => RoutesWhere(services, IsPage);

    /// <summary>Whether <paramref name="endpoint"/> is a Razor Page (the IG console), not an API route.</summary>
    public static bool IsPage(Endpoint endpoint) =>
        endpoint.Metadata.GetMetadata<Microsoft.AspNetCore.Mvc.RazorPages.PageActionDescriptor>() is not null;

    private static IReadOnlyList<string> RoutesWhere(IServiceProvider services, Func<RouteEndpoint, bool> which) =>
        [.. services.GetRequiredService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>()
            .Where(which)
            .SelectMany(Routes)
            .Distinct()
            .Order(StringComparer.Ordinal)];

    /// <summary>The routes that have no rule (should be none) and the rules for routes that do not exist.</summary>
    public static (IReadOnlyList<string> Unlisted, IReadOnlyList<string> Stale) Coverage(IServiceProvider services, IEnumerable<RouteRule> rules)
    {
        var routes = Routes(services);
        var listed = rules.Select(rule => rule.Route).ToHashSet(StringComparer.Ordinal);
        return ([.. routes.Where(route => !listed.Contains(route))], [.. listed.Where(rule => !routes.Contains(rule)).Order(StringComparer.Ordinal)]);
    }

    /// <summary>Fails naming every mapped route without a rule, and every rule for a route that is not mapped.</summary>
    public static void AssertCovered(IServiceProvider services, IEnumerable<RouteRule> rules)
    {
        var (unlisted, stale) = Coverage(services, rules);
        Xunit.Assert.True(unlisted.Count == 0, $"Routes with no rule in the matrix: {string.Join("; ", unlisted)}");
        Xunit.Assert.True(stale.Count == 0, $"Rules for routes that do not exist: {string.Join("; ", stale)}");
    }

    /// <summary>Fails listing every rule the service breaks (see <see cref="VerifyAsync"/>).</summary>
    public static async Task AssertHoldsAsync(
        IServiceProvider services, IEnumerable<RouteRule> rules, IReadOnlyList<string> allRoles,
        Func<string, string[], HttpClient> clientFor, Func<HttpClient> anonymous)
    {
        var failures = await VerifyAsync(services, rules, allRoles, clientFor, anonymous);
        Xunit.Assert.True(failures.Count == 0, string.Join(Environment.NewLine, failures));
    }

    /// <summary>
    /// Checks every rule and returns every failure (empty when the matrix holds). <paramref name="clientFor"/>
    /// gives a client with a valid token of an organisation and roles; <paramref name="anonymous"/> one without.
    /// </summary>
    public static async Task<IReadOnlyList<string>> VerifyAsync(
        IServiceProvider services, IEnumerable<RouteRule> rules, IReadOnlyList<string> allRoles,
        Func<string, string[], HttpClient> clientFor, Func<HttpClient> anonymous)
    {
        var failures = new List<string>();
        var endpoints = services.GetRequiredService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>().ToList();
        foreach (var rule in rules)
        {
            var method = rule.Route[..rule.Route.IndexOf(' ', StringComparison.Ordinal)];
            var send = method == "*" ? HttpMethod.Get : new HttpMethod(method);
            void Fail(string what) => failures.Add($"{rule.Route}: {what}");

            var metadata = endpoints.FirstOrDefault(e => Routes(e).Contains(rule.Route))?.Metadata;
            if (rule.Anonymous)
            {
                if (metadata?.GetMetadata<IAllowAnonymous>() is null)
                {
                    Fail("expected anonymous, but the endpoint does not allow anonymous callers");
                }
                var path = rule.Arrange is null ? rule.Route[(method.Length + 1)..] : (await rule.Arrange()).Path;
                var open = await SendAsync(anonymous(), send, path, null);
                if (open is HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden)
                {
                    Fail($"anonymous caller got {(int)open}");
                }
                continue;
            }

            var roles = metadata?.GetOrderedMetadata<IAuthorizeData>().Select(a => a.Policy).Where(p => p is not null).ToList() ?? [];
            if (rule.Role is not null && !roles.Contains(rule.Role))
            {
                Fail($"expected to require role {rule.Role}; the endpoint requires [{string.Join(", ", roles)}]");
            }
            if (rule.Arrange is null)
            {
                Fail("a protected route needs Arrange (a request the owner may make)");
                continue;
            }

            var request = await rule.Arrange();
            var expect = (HttpStatusCode status, HttpStatusCode got, string who) =>
            {
                if (got != status)
                {
                    Fail($"{who}: expected {(int)status}, got {(int)got}");
                }
            };
            expect(HttpStatusCode.Unauthorized, await SendAsync(anonymous(), send, request.Path, request.Body), "no token");
            var forged = anonymous();
            forged.DefaultRequestHeaders.Authorization = new("Bearer", "eyJhbGciOiJub25lIn0.eyJvcmciOiJyb2N1LXdtIn0.");
            expect(HttpStatusCode.Unauthorized, await SendAsync(forged, send, request.Path, request.Body), "an unsigned token");
            if (rule.Role is not null)
            {
                var withoutRole = clientFor(request.Owner, [.. allRoles.Where(role => role != rule.Role)]);
                expect(HttpStatusCode.Forbidden, await SendAsync(withoutRole, send, request.Path, request.Body), "the owner without the role");
            }

            var other = request.Owner == "staffs" ? "nca" : "staffs";
            using var otherResponse = await SendRawAsync(clientFor(other, [.. allRoles]), send, request.Path, request.Body);
            switch (request.Ownership)
            {
                case Ownership.OwnedObject:
                    expect(HttpStatusCode.NotFound, otherResponse.StatusCode, $"another organisation ({other}) with every role");
                    break;
                case Ownership.ForbiddenToOthers:
                    expect(HttpStatusCode.Forbidden, otherResponse.StatusCode, $"another organisation ({other}) with every role");
                    break;
                case Ownership.Listing:
                    if (!otherResponse.IsSuccessStatusCode || request.ShowsNothingOfOwner is null || !await request.ShowsNothingOfOwner(otherResponse))
                    {
                        Fail($"another organisation ({other}) with every role got {(int)otherResponse.StatusCode} and {(request.ShowsNothingOfOwner is null ? "no check" : "saw the owner's items")}");
                    }
                    break;
                case Ownership.None:
                    break;
            }

            // A route open to any authenticated caller is tried with whatever roles the owner has.
            var ownerRoles = rule.Role is null ? [.. allRoles] : new[] { rule.Role };
            var allowed = await SendAsync(clientFor(request.Owner, ownerRoles), send, request.Path, request.Body);
            if (allowed is HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden or HttpStatusCode.NotFound || (int)allowed >= 500)
            {
                Fail($"the owner ({request.Owner}) with {string.Join(", ", ownerRoles)} got {(int)allowed}");
            }
        }
        return failures;
    }

    private static IEnumerable<string> Routes(RouteEndpoint endpoint) =>
        (endpoint.Metadata.GetMetadata<IHttpMethodMetadata>()?.HttpMethods ?? ["*"])
            .Select(method => $"{method} /{endpoint.RoutePattern.RawText!.TrimStart('/')}");

    private static async Task<HttpStatusCode> SendAsync(HttpClient client, HttpMethod method, string path, Func<HttpContent>? body)
    {
        using var response = await SendRawAsync(client, method, path, body);
        return response.StatusCode;
    }

    private static Task<HttpResponseMessage> SendRawAsync(HttpClient client, HttpMethod method, string path, Func<HttpContent>? body)
    {
        var message = new HttpRequestMessage(method, path) { Content = body?.Invoke() };
        return client.SendAsync(message);
    }
}
