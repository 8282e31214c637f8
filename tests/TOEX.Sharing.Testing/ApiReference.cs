using System.Text.RegularExpressions;

namespace TOEX.Sharing.Testing;

/// <summary>
/// <c>docs/api.md</c>, the API reference kept in the repository: under each service's heading (<c>## Gateway</c>,
/// <c>## Audit service</c>) every route the service maps has a section headed <c>### `METHOD /path`</c>, the path as
/// mapped without route constraints or a trailing slash (<c>{id:guid}</c> is written <c>{id}</c>; a route that takes any
/// method, such as <c>/health</c>, is written as <c>GET</c>). The services' routes are read from their
/// <c>EndpointDataSource</c> (<see cref="RouteMatrix.Routes"/>), so a route added without its section fails, naming the
/// line to add.
/// </summary>
public static partial class ApiReference
{
    public const string RelativePath = "docs/api.md";

    public static string FullPath => Path.Combine(RepoPaths.Root, "docs", "api.md");

    /// <summary>How the reference heads the section of a mapped route (<c>METHOD /pattern</c>, as <see cref="RouteMatrix.Routes"/> lists it).</summary>
    public static string Heading(string route)
    {
        var space = route.IndexOf(' ', StringComparison.Ordinal);
        var method = route[..space] == "*" ? "GET" : route[..space];
        var path = Constraint().Replace(route[(space + 1)..], "{$1}");
        if (path.Length > 1)
        {
            path = path.TrimEnd('/');
        }
        return $"{method} {path}";
    }

    /// <summary>The routes the reference documents under <c>## <paramref name="service"/></c>, as <see cref="Heading"/> writes them.</summary>
    public static IReadOnlyList<string> Documented(string markdown, string service)
    {
        var documented = new List<string>();
        var inSection = false;
        foreach (var line in markdown.Split('\n').Select(l => l.TrimEnd('\r')))
        {
            if (line.StartsWith("## ", StringComparison.Ordinal))
            {
                inSection = line == $"## {service}";
            }
            else if (inSection && RouteHeading().Match(line) is { Success: true } heading)
            {
                documented.Add(heading.Groups[1].Value);
            }
        }
        return documented;
    }

    /// <summary>
    /// Every problem with the reference for one service: a mapped route without its section (saying which line to add
    /// and where), a section for a route the service does not map, or no section for the service at all.
    /// </summary>
    public static IReadOnlyList<string> Problems(IEnumerable<string> routes, string markdown, string service, string serviceName)
    {
        if (!markdown.Split('\n').Any(line => line.TrimEnd('\r') == $"## {service}"))
        {
            return [$"{RelativePath} has no '## {service}' heading: the {serviceName}'s routes are documented under it."];
        }
        var documented = Documented(markdown, service);
        var mapped = routes.Select(Heading).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();
        var problems = new List<string>();
        foreach (var route in mapped.Where(r => !documented.Contains(r, StringComparer.Ordinal)))
        {
            problems.Add($"{RelativePath} does not document the {serviceName}'s route {route}. Add this line under '## {service}':"
                + $"{Environment.NewLine}    ### `{route}`{Environment.NewLine}followed by who may call it (the role), the request, the answer and each error "
                + "with its status and problem type, as the other sections do.");
        }
        foreach (var route in documented.Where(r => !mapped.Contains(r, StringComparer.Ordinal)).Distinct(StringComparer.Ordinal))
        {
            problems.Add($"{RelativePath} documents '### `{route}`' under '## {service}', which the {serviceName} does not map: "
                + "correct its method or path, or remove its section.");
        }
        return problems;
    }

    /// <summary>Fails naming every route of the service missing from the reference, and every section for a route it does not map.</summary>
    /// <remarks>
    /// The API routes are documented under <c>## <paramref name="service"/></c>; a service's console pages (Razor Pages,
    /// <see cref="RouteMatrix.IsPage"/>), when it has them, under <c>## <paramref name="pagesSection"/></c>.
    /// </remarks>
    public static void AssertDocumented(IServiceProvider services, string service, string serviceName, string? pagesSection = null)
    {
        var markdown = File.ReadAllText(FullPath);
        var problems = Problems(pagesSection is null ? RouteMatrix.Routes(services) : RouteMatrix.ApiRoutes(services), markdown, service, serviceName).ToList();
        if (pagesSection is not null)
        {
            problems.AddRange(Problems(RouteMatrix.PageRoutes(services), markdown, pagesSection, $"{serviceName}'s console"));
        }
        Xunit.Assert.True(problems.Count == 0, string.Join(Environment.NewLine, problems));
    }

    [GeneratedRegex(@"\{([^}:=?]+)[^}]*\}")]
    private static partial Regex Constraint();

    [GeneratedRegex(@"^### `([A-Z]+ /[^`]*)`\s*$")]
    private static partial Regex RouteHeading();
}
