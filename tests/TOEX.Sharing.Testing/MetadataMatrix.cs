using System.Text;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace TOEX.Sharing.Testing;

/// <summary>One request a matrix sends to a route.</summary>
public sealed record ProbeRequest(HttpMethod Method, string Path, Func<HttpContent>? Body = null);

/// <summary>
/// What the metadata matrix does with one route: either it returns nothing about any package (health, keys), said
/// explicitly, or the requests to send to it on another organisation's package.
/// </summary>
public sealed record MetadataProbe(string Route)
{
    /// <summary>Why the route cannot say anything about a package; null when it can, and is probed.</summary>
    public string? HoldsNoPackageData { get; init; }

    /// <summary>The requests to send (every form of the route, e.g. each kind of subject search).</summary>
    public Func<Task<IReadOnlyList<ProbeRequest>>>? Requests { get; init; }
}

/// <summary>
/// An organisation that has no business with a disclosure, and what of it must never reach it: the package's id and
/// reference, the names of its recipients, its referral's id.
/// </summary>
public sealed record Outsider(string Organisation, string Why, IReadOnlyList<string> MustNotSee);

/// <summary>
/// The metadata matrix (issue 11): every route a service maps is read from its <see cref="EndpointDataSource"/>, so a new
/// route without a probe fails <see cref="AssertCovered"/>. Each route that returns package, release, delivery, referral or
/// ledger data is called by each outsider (a denied recipient, a referred one before approval, an unrelated partner), each
/// holding every role its token can carry, and nothing the outsider must not see may appear in the answer: body, headers
/// and status alike.
/// </summary>
public static class MetadataMatrix
{
    public static void AssertCovered(IServiceProvider services, IEnumerable<MetadataProbe> probes)
    {
        var routes = RouteMatrix.Routes(services);
        var listed = probes.Select(p => p.Route).ToHashSet(StringComparer.Ordinal);
        var unlisted = routes.Where(r => !listed.Contains(r)).ToList();
        var stale = listed.Where(r => !routes.Contains(r)).Order(StringComparer.Ordinal).ToList();
        Xunit.Assert.True(unlisted.Count == 0, $"Routes with no probe in the metadata matrix: {string.Join("; ", unlisted)}");
        Xunit.Assert.True(stale.Count == 0, $"Probes for routes that do not exist: {string.Join("; ", stale)}");
        foreach (var probe in probes)
        {
            Xunit.Assert.True((probe.HoldsNoPackageData is null) != (probe.Requests is null),
                $"{probe.Route}: a probe either says why the route holds no package data or sends requests, not both or neither.");
        }
    }

    /// <summary>Sends every probe's requests as every outsider and fails listing each leak (what appeared, where).</summary>
    public static async Task AssertNothingLeaksAsync(IEnumerable<MetadataProbe> probes, IEnumerable<Outsider> outsiders,
        Func<string, HttpClient> clientFor)
    {
        var leaks = new List<string>();
        var sent = 0;
        foreach (var probe in probes.Where(p => p.Requests is not null))
        {
            var requests = await probe.Requests!();
            Xunit.Assert.True(requests.Count > 0, $"{probe.Route}: the probe sends no request.");
            foreach (var outsider in outsiders)
            {
                var client = clientFor(outsider.Organisation);
                foreach (var request in requests)
                {
                    using var message = new HttpRequestMessage(request.Method, request.Path) { Content = request.Body?.Invoke() };
                    using var response = await client.SendAsync(message);
                    sent++;
                    var seen = new StringBuilder();
                    seen.Append(await response.Content.ReadAsStringAsync());
                    foreach (var header in response.Headers.Concat(response.Content.Headers))
                    {
                        seen.Append('\n').Append(header.Key).Append(": ").Append(string.Join(", ", header.Value));
                    }
                    var text = seen.ToString();
                    // Its own name it may see (its own searches are recorded under it).
                    foreach (var secret in outsider.MustNotSee.Where(s => s != outsider.Organisation && text.Contains(s, StringComparison.OrdinalIgnoreCase)))
                    {
                        leaks.Add($"{request.Method} {request.Path} as {outsider.Organisation} ({outsider.Why}): {(int)response.StatusCode} shows '{secret}'");
                    }
                    if ((int)response.StatusCode >= 500)
                    {
                        leaks.Add($"{request.Method} {request.Path} as {outsider.Organisation}: {(int)response.StatusCode}");
                    }
                }
            }
        }
        Xunit.Assert.True(sent > 0, "The matrix sent nothing.");
        Xunit.Assert.True(leaks.Count == 0, "Disclosed to organisations with no business with it:\n" + string.Join("\n", leaks));
    }

    public static IReadOnlyList<ProbeRequest> Get(params string[] paths) => [.. paths.Select(p => new ProbeRequest(HttpMethod.Get, p))];
}
