using System.Globalization;
using System.Security.Claims;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using TOEX.Sharing.Gateway.Data;
using TOEX.Sharing.ServiceDefaults;

namespace TOEX.Sharing.Gateway.Apis;

public sealed record ReleaseView(long Cursor, Guid PackageId, string Recipient, ItemKind Kind, DateTimeOffset ReleasedAt);

public sealed record ReleasePage(IReadOnlyList<ReleaseView> Items, long? Next);

/// <summary>
/// Every copy the gateway released (its feeds' items), in release order, for the reconciliation of releases with
/// the audit ledger (<c>toex audit reconcile</c>): ids, recipients and times only, no sealed content. The ledger's
/// custodians' alone (<c>Audit:Custodians</c>): it names every partner's copies.
/// </summary>
public static class ReleasesApi
{
    public const int MaxLimit = 1000;

    public static RouteGroupBuilder MapReleasesApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api/v1/releases").RequireAuthorization(Roles.AuditRead);
        api.MapGet("/", List);
        return api;
    }

    public static async Task<Results<Ok<ReleasePage>, ValidationProblem, ProblemHttpResult>> List(
        string? after, string? limit, GatewayDb db, Governance governance, ClaimsPrincipal user, CancellationToken cancellationToken)
    {
        if (!governance.IsCustodian(user))
        {
            return Problems.Status(StatusCodes.Status403Forbidden, "not-a-custodian", "Only the ledger's custodians may list every release.",
                "Audit:Custodians names the organisations that reconcile the gateway's releases with the ledger.");
        }
        var errors = new Dictionary<string, string[]>();
        long cursor = 0;
        if (after is not null && !long.TryParse(after, NumberStyles.None, CultureInfo.InvariantCulture, out cursor))
        {
            errors["after"] = ["Must be a cursor returned as 'next'."];
        }
        var take = MaxLimit;
        if (limit is not null && (!int.TryParse(limit, NumberStyles.None, CultureInfo.InvariantCulture, out take) || take < 1 || take > MaxLimit))
        {
            errors["limit"] = [$"Must be a whole number from 1 to {MaxLimit}."];
        }
        if (errors.Count > 0)
        {
            return Problems.Validation(errors);
        }
        var items = await db.Feed.AsNoTracking().Where(f => f.Cursor > cursor).OrderBy(f => f.Cursor).Take(take + 1)
            .Select(f => new ReleaseView(f.Cursor, f.PackageId, f.Recipient, f.Kind, f.ReleasedAt)).ToListAsync(cancellationToken);
        var more = items.Count > take;
        if (more)
        {
            items.RemoveAt(items.Count - 1);
        }
        return TypedResults.Ok(new ReleasePage(items, more ? items[^1].Cursor : null));
    }
}
