using System.Text.RegularExpressions;
using Microsoft.IdentityModel.Tokens;

namespace TOEX.Sharing.ServiceDefaults;

/// <summary>Checks <c>Authentication:Issuers</c> at start-up and derives what each issuer's tokens must carry.</summary>
public static partial class TrustedIssuers
{
    private const string EntraDefaultInstance = "https://login.microsoftonline.com/";

    /// <summary>Asymmetric algorithms only: never <c>none</c>, never HMAC (a public key used as a shared secret).</summary>
    public static readonly IReadOnlyList<string> AllowedAlgorithms =
    [
        SecurityAlgorithms.RsaSha256, SecurityAlgorithms.RsaSha384, SecurityAlgorithms.RsaSha512,
        SecurityAlgorithms.RsaSsaPssSha256, SecurityAlgorithms.RsaSsaPssSha384, SecurityAlgorithms.RsaSsaPssSha512,
        SecurityAlgorithms.EcdsaSha256, SecurityAlgorithms.EcdsaSha384, SecurityAlgorithms.EcdsaSha512,
    ];

    private static readonly string[] DefaultAlgorithms = [SecurityAlgorithms.RsaSha256, SecurityAlgorithms.RsaSsaPssSha256, SecurityAlgorithms.EcdsaSha256];

    /// <summary>Every problem with the configured issuers, one line each, naming the key.</summary>
    public static List<string> Check(IReadOnlyList<TrustedIssuerOptions> issuers, bool production)
    {
        var problems = new List<string>();
        var names = new HashSet<string>(StringComparer.Ordinal);
        var issuerValues = new HashSet<string>(StringComparer.Ordinal) { Sealing.DevIssuer.Issuer };
        for (var i = 0; i < issuers.Count; i++)
        {
            var issuer = issuers[i];
            var at = $"{Authentication.IssuersSection}:{i}";
            if (!NamePattern().IsMatch(issuer.Name ?? ""))
            {
                problems.Add($"{at}:Name must be lower-case letters, digits and '-'.");
            }
            else if (!names.Add(issuer.Name!))
            {
                problems.Add($"{at}:Name '{issuer.Name}' is used twice.");
            }

            if (issuer.Kind == IssuerKind.Entra)
            {
                if (!Guid.TryParse(issuer.TenantId, out _))
                {
                    problems.Add($"{at}:TenantId must be the directory's id (a GUID); 'common' and 'organizations' are not accepted.");
                }
                if (string.IsNullOrWhiteSpace(issuer.ClientId))
                {
                    problems.Add($"{at}:ClientId is required (the API's application id).");
                }
                if (!Uri.TryCreate(EntraInstanceOf(issuer), UriKind.Absolute, out var instance) || instance.Scheme != Uri.UriSchemeHttps)
                {
                    problems.Add($"{at}:Instance must be an https URL.");
                }
            }
            else
            {
                if (!Uri.TryCreate(issuer.Authority, UriKind.Absolute, out var authority)
                    || (authority.Scheme != Uri.UriSchemeHttps && !(authority.Scheme == Uri.UriSchemeHttp && !issuer.RequireHttpsMetadata)))
                {
                    problems.Add($"{at}:Authority must be an https URL (http only with RequireHttpsMetadata false, never in Production).");
                }
                if (string.IsNullOrWhiteSpace(issuer.Audience))
                {
                    problems.Add($"{at}:Audience is required.");
                }
            }
            if (!issuer.RequireHttpsMetadata && production)
            {
                problems.Add($"{at}:RequireHttpsMetadata cannot be false in Production.");
            }

            if (issuer.Roles.Count == 0)
            {
                problems.Add($"{at}:Roles must list the roles the issuer may grant (of {string.Join(", ", ServiceDefaults.Roles.All)}); any other is dropped.");
            }
            problems.AddRange(issuer.Roles.Where(role => !ServiceDefaults.Roles.All.Contains(role, StringComparer.Ordinal))
                .Select(role => $"{at}:Roles: '{role}' is not a role of the service (one of {string.Join(", ", ServiceDefaults.Roles.All)})."));

            if (issuer.Organisations.Count == 0)
            {
                problems.Add($"{at}:Organisations must name at least one organisation the issuer may speak for.");
            }
            problems.AddRange(issuer.Organisations.Where(organisation => !NamePattern().IsMatch(organisation))
                .Select(organisation => $"{at}:Organisations: '{organisation}' is not a partner id."));
            problems.AddRange(issuer.Clients.Where(client => !issuer.Organisations.Contains(client.Value, StringComparer.Ordinal))
                .Select(client => $"{at}:Clients:{client.Key} maps to '{client.Value}', which is not in Organisations."));
            problems.AddRange(issuer.Algorithms.Where(algorithm => !AllowedAlgorithms.Contains(algorithm, StringComparer.Ordinal))
                .Select(algorithm => $"{at}:Algorithms: '{algorithm}' is not allowed (asymmetric RS/PS/ES only)."));
            if (issuer.ClockSkew < TimeSpan.Zero || issuer.ClockSkew > TimeSpan.FromSeconds(60))
            {
                problems.Add($"{at}:ClockSkew must be between 0 and 60 seconds.");
            }
            if (problems.Count == 0)
            {
                problems.AddRange(IssuerValuesOf(issuer).Where(value => !issuerValues.Add(value))
                    .Select(value => $"{at}: issuer '{value}' is configured twice."));
            }
        }
        return problems;
    }

    /// <summary>The <c>iss</c> a token of this issuer carries (Entra: the v2.0 form).</summary>
    public static string IssuerOf(TrustedIssuerOptions issuer) => issuer.Kind == IssuerKind.Entra
        ? $"{EntraInstanceOf(issuer)}{issuer.TenantId}/v2.0"
        : issuer.Issuer is { Length: > 0 } explicitIssuer ? explicitIssuer : issuer.Authority!.TrimEnd('/');

    /// <summary>Every <c>iss</c> value routed to this issuer (Entra also signs v1.0 access tokens as sts.windows.net).</summary>
    public static string[] IssuerValuesOf(TrustedIssuerOptions issuer) => issuer.Kind == IssuerKind.Entra
        ? [IssuerOf(issuer), $"https://sts.windows.net/{issuer.TenantId}/"]
        : [IssuerOf(issuer)];

    public static string EntraInstanceOf(TrustedIssuerOptions issuer) =>
        (issuer.Instance is { Length: > 0 } instance ? instance : EntraDefaultInstance).TrimEnd('/') + "/";

    public static IReadOnlyList<string> AlgorithmsOf(TrustedIssuerOptions issuer) =>
        issuer.Algorithms.Count > 0 ? issuer.Algorithms : DefaultAlgorithms;

    /// <summary>RFC 9068 <c>at+jwt</c> by default; Entra access tokens say <c>JWT</c> (their audience tells them from ID tokens).</summary>
    public static IReadOnlyList<string> TypesOf(TrustedIssuerOptions issuer) =>
        issuer.TokenTypes.Count > 0 ? issuer.TokenTypes
        : issuer.Kind == IssuerKind.Entra ? ["JWT"] : ["at+jwt", "application/at+jwt"];

    [GeneratedRegex("^[a-z0-9][a-z0-9-]{0,63}$")]
    private static partial Regex NamePattern();
}
