using System.Globalization;
using System.Security.Claims;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using TOEX.Sharing.Contracts;
using TOEX.Sharing.Gateway.Data;
using TOEX.Sharing.ServiceDefaults;

namespace TOEX.Sharing.Gateway.Apis;

public sealed record FeedEntry(string Cursor, Guid PackageId, string Kind, string Sealed, DateTimeOffset ReleasedAt);

public sealed record FeedPage(IReadOnlyList<FeedEntry> Items, string Next);

/// <summary>A partner's pull feed: its own sealed copies in release order, behind a monotonic cursor.</summary>
public static class FeedApi
{
    public const int DefaultLimit = 100;

    public static RouteGroupBuilder MapFeedApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api/v1/feed").RequireAuthorization(Roles.FeedRead);
        api.MapGet("/", GetFeed);
        api.MapPost("/{packageId:guid}/ack", Acknowledge);
        return api;
    }

    public const string DefaultJustification =
        "The partner collected the copies released to it (delivery under its agreements); no further justification given.";

    /// <summary>The partner's own items after the cursor; recorded for the audit ledger as a consultation (s62).</summary>
    public static async Task<Results<Ok<FeedPage>, ValidationProblem>> GetFeed(
        string? after, string? limit, ClaimsPrincipal user, GatewayDb db, IOptions<GatewayOptions> options,
        ConsultationLog consultations, HttpRequest request, CancellationToken cancellationToken)
    {
        var (justification, invalid) = Justification.Read(request, DefaultJustification);
        if (invalid is not null)
        {
            return invalid;
        }
        var errors = new Dictionary<string, string[]>();
        long cursor = 0;
        if (after is not null && (!long.TryParse(after, NumberStyles.None, CultureInfo.InvariantCulture, out cursor)))
        {
            errors["after"] = ["Must be a cursor returned as 'next' or 'cursor' by this feed."];
        }
        var max = options.Value.FeedPageMax;
        var take = DefaultLimit;
        if (limit is not null && (!int.TryParse(limit, NumberStyles.None, CultureInfo.InvariantCulture, out take) || take < 1 || take > max))
        {
            errors["limit"] = [$"Must be a whole number from 1 to {max}."];
        }
        if (errors.Count > 0)
        {
            return Problems.Validation(errors);
        }

        var recipient = user.Organisation();
        var items = await db.Feed.AsNoTracking()
            .Where(f => f.Recipient == recipient && f.Cursor > cursor)
            .OrderBy(f => f.Cursor)
            .Take(take)
            .Select(f => new { f.Cursor, f.PackageId, f.Kind, f.Sealed, f.ReleasedAt })
            .ToListAsync(cancellationToken);
        var next = items.Count > 0 ? items[^1].Cursor : cursor;
        var ids = items.Select(i => i.PackageId).Distinct().ToList();
        var originators = await db.Submissions.AsNoTracking().Where(p => ids.Contains(p.Id))
            .ToDictionaryAsync(p => p.Id, p => p.Originator, cancellationToken);
        await consultations.RecordAsync(ConsultationLog.FeedRead, user, justification!,
            [.. items.Select(i => new ConsultedItem
            {
                PackageId = i.PackageId,
                Originator = originators.GetValueOrDefault(i.PackageId, "unknown"),
                Recipient = recipient,
                Kind = i.Kind,
                Cursor = i.Cursor,
            })],
            new Dictionary<string, string>
            {
                ["after"] = cursor.ToString(CultureInfo.InvariantCulture),
                ["limit"] = take.ToString(CultureInfo.InvariantCulture),
                ["next"] = next.ToString(CultureInfo.InvariantCulture),
            }, cancellationToken);
        return TypedResults.Ok(new FeedPage(
            [.. items.Select(i => new FeedEntry(i.Cursor.ToString(CultureInfo.InvariantCulture), i.PackageId, i.Kind, i.Sealed, i.ReleasedAt))],
            next.ToString(CultureInfo.InvariantCulture)));
    }

    public static async Task<Results<NoContent, NotFound>> Acknowledge(
        Guid packageId, ClaimsPrincipal user, GatewayDb db, TimeProvider time, CancellationToken cancellationToken)
    {
        var recipient = user.Organisation();
        var item = await db.Feed.SingleOrDefaultAsync(
            f => f.Recipient == recipient && f.PackageId == packageId && f.Kind == "package", cancellationToken);
        if (item is null)
        {
            return TypedResults.NotFound();
        }
        if (item.AcknowledgedAt is null)
        {
            // Acknowledged once: the first acknowledgement is the one on record.
            var now = time.GetUtcNow();
            item.AcknowledgedAt = now;
            item.AcknowledgedBy = user.Actor();
            var state = await db.Recipients.SingleOrDefaultAsync(r => r.PackageId == packageId && r.Partner == recipient, cancellationToken);
            if (state is not null)
            {
                state.DeliveryState = DeliveryState.Acknowledged;
                state.AcknowledgedAt = now;
            }
            await db.SaveChangesAsync(cancellationToken);
        }
        return TypedResults.NoContent();
    }
}
