using System.Security.Claims;
using Microsoft.Extensions.Configuration;

namespace TOEX.Sharing.ServiceDefaults;

/// <summary>
/// The organisations with powers across organisations, the same in every service: the ledger's custodians
/// (<c>Audit:Custodians</c>: they answer for the whole ledger, read every entry and every release, and export it) and
/// the broker's operators (<c>Operations:Organisations</c>: only their callers keep an operator role such as
/// <c>Deliveries.Operate</c>, whatever an identity provider grants). Both empty by default: nobody has either power.
/// Registered by <see cref="Authentication.AddToexAuthentication"/>.
/// </summary>
public sealed class Governance
{
    public const string CustodiansSection = "Audit:Custodians";
    public const string OperatorsSection = "Operations:Organisations";

    public IReadOnlyList<string> Custodians { get; init; } = [];

    public IReadOnlyList<string> Operators { get; init; } = [];

    public static Governance From(IConfiguration configuration) => new()
    {
        Custodians = configuration.GetSection(CustodiansSection).Get<List<string>>() ?? [],
        Operators = configuration.GetSection(OperatorsSection).Get<List<string>>() ?? [],
    };

    public bool IsCustodian(ClaimsPrincipal user) =>
        user.FindFirstValue(Authentication.OrganisationClaim) is { } organisation && Custodians.Contains(organisation, StringComparer.Ordinal);

    public bool IsOperator(string organisation) => Operators.Contains(organisation, StringComparer.Ordinal);
}
