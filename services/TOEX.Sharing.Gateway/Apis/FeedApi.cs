using System.Globalization;
using System.Security.Claims;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using TOEX.Sharing.Contracts;
using TOEX.Sharing.Gateway.Data;
using TOEX.Sharing.Gateway.Core;
using TOEX.Sharing.Gateway.Release;
using TOEX.Sharing.ServiceDefaults;

namespace TOEX.Sharing.Gateway.Apis;

public sealed record FeedEntry(string Cursor, Guid PackageId, ItemKind Kind, string Sealed, DateTimeOffset ReleasedAt);

public sealed record FeedPage(IReadOnlyList<FeedEntry> Items, string Next);

/// <summary>
/// A partner's pull feed: its own sealed copies in release order, behind a monotonic cursor that is the item's place
/// in this partner's own feed (1, 2, 3, …), so it tells nothing of other partners' traffic.
/// </summary>
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
        string? after, string? limit, ClaimsPrincipal user, GatewayDb db, GatewayWriter writer, IOptions<GatewayOptions> options,
        ConsultationLog consultations, HttpRequest request, TimeProvider time, ILoggerFactory loggers, CancellationToken cancellationToken)
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
        if (cursor > 0 && !await db.Feed.AnyAsync(f => f.Recipient == recipient && f.Position >= cursor, cancellationToken))
        {
            // Not a cursor this feed gave: reading on from it could silently pass items by.
            return Problems.Validation(new Dictionary<string, string[]>
            {
                ["after"] = ["Not a cursor of this feed (it is past the feed's end). Start again without 'after'."],
            });
        }
        // A recalled copy is no longer served once its recipient's recall notice is on the feed (the notice says to delete it).
        var candidates = await db.Feed.AsNoTracking()
            .Where(f => f.Recipient == recipient && f.Position > cursor && f.WithdrawnAt == null
                && !(f.Kind == ItemKind.Package
                    && db.Feed.Any(n => n.Recipient == recipient && n.PackageId == f.PackageId && n.Kind == ItemKind.Recall)))
            .OrderBy(f => f.Position)
            .Take(take)
            .Select(f => new { f.Cursor, f.Position, f.PackageId, f.Kind, f.Sealed, f.ReleasedAt, f.DeliveredAt })
            .ToListAsync(cancellationToken);
        var unread = candidates.Where(i => i.DeliveredAt is null).Select(i => i.Cursor).ToList();
        var readAt = time.GetUtcNow();
        var items = (unread.Count == 0 ? [] : await writer.WriteAsync((target, token) => RecipientLife.FeedReadAsync(target, recipient, unread, readAt, token),
            cancellationToken)) is { Count: > 0 } withdrawn
            ? [.. candidates.Where(i => !withdrawn.Contains(i.Cursor))]
            : candidates;
        var next = items.Count > 0 ? items[^1].Position : cursor;
        var ids = items.Select(i => i.PackageId).Distinct().ToList();
        var originators = await db.Submissions.AsNoTracking().Where(p => ids.Contains(p.Id))
            .ToDictionaryAsync(p => p.Id, p => p.Originator, cancellationToken);
        await consultations.RecordAsync(ConsultationLog.FeedRead, user, justification!,
            [.. items.Select(i => new ConsultedItem
            {
                PackageId = i.PackageId,
                Originator = originators.GetValueOrDefault(i.PackageId, "unknown"),
                Recipient = recipient,
                Kind = i.Kind.Text(),
                Cursor = i.Position,
            })],
            new Dictionary<string, string>
            {
                ["after"] = cursor.ToString(CultureInfo.InvariantCulture),
                ["limit"] = take.ToString(CultureInfo.InvariantCulture),
                ["next"] = next.ToString(CultureInfo.InvariantCulture),
            }, cancellationToken);
        if (items.Count > 0)
        {
            ToexTelemetry.Deliveries.Add(items.Count, new("channel", "feed"), new("event", "read"));
            var logger = loggers.CreateLogger(typeof(FeedApi).FullName!);
            foreach (var item in items.Where(i => i.DeliveredAt is null))
            {
                logger.LogInformation("Feed item {Cursor} ({Kind} of package {PackageId}) delivered to {Recipient}", item.Cursor, item.Kind.Text(), item.PackageId, recipient);
            }
        }
        return TypedResults.Ok(new FeedPage(
            [.. items.Select(i => new FeedEntry(i.Position.ToString(CultureInfo.InvariantCulture), i.PackageId, i.Kind, i.Sealed, i.ReleasedAt))],
            next.ToString(CultureInfo.InvariantCulture)));
    }

    /// <summary>
    /// The recipient acknowledges its package, or with <c>kind=recall</c> its recall notice. Once: the first
    /// acknowledgement is the one on record; another partner's item, or a withdrawn one, is 404.
    /// </summary>
    public static async Task<Results<NoContent, NotFound, ValidationProblem>> Acknowledge(
        Guid packageId, string? kind, ClaimsPrincipal user, GatewayWriter writer, OutboxSignal outbox, TimeProvider time,
        ILoggerFactory loggers, CancellationToken cancellationToken)
    {
        if ((kind is null ? ItemKind.Package : StateText.Parse<ItemKind>(kind)) is not { } item)
        {
            return Problems.Validation(new Dictionary<string, string[]> { ["kind"] = ["Either package (the default) or recall."] });
        }
        var (partner, actor, now) = (user.Organisation(), user.Actor(), time.GetUtcNow());
        // Checked and recorded by the gateway's writer, committed with whatever else it has.
        if (!await writer.WriteAsync((target, token) => Acknowledgements.RecordAsync(target, packageId, partner, item, actor, "feed", now, token),
            cancellationToken))
        {
            return TypedResults.NotFound();
        }
        outbox.Notify();
        loggers.CreateLogger(typeof(FeedApi).FullName!).LogInformation(
            "Package {PackageId}: {Kind} acknowledged by {Recipient} on its feed", packageId, item.Text(), user.Organisation());
        return TypedResults.NoContent();
    }
}
