using System.Globalization;
using System.Security.Claims;
using System.Text.Json;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using TOEX.Sharing.Contracts;
using TOEX.Sharing.Gateway.Data;
using TOEX.Sharing.Gateway.Core;
using TOEX.Sharing.Gateway.Delivery;
using TOEX.Sharing.Gateway.Release;
using TOEX.Sharing.ServiceDefaults;

namespace TOEX.Sharing.Gateway.Apis;

public sealed record PushView(
    Guid WebhookId, ItemKind Kind, PushState State, int Attempts, DateTimeOffset? NextAttemptAt, int? LastStatusCode, string? LastError,
    DateTimeOffset? DeliveredAt, int Retries);

public sealed record PushEntry(Guid PackageId, string Recipient, PushView Push);

public sealed record RetryAccepted(Guid PackageId, string Recipient, IReadOnlyList<Guid> WebhookIds, bool EndpointReenabled);

/// <summary>
/// The operators' view of push delivery: the pushes in a state (dead-lettered by default), and sending a
/// dead-lettered push back to its partner with a fresh retry horizon (the same webhook-id), which also
/// re-enables an endpoint a 410 disabled. Role <c>Deliveries.Operate</c>.
/// </summary>
public static class DeliveriesApi
{
    public static RouteGroupBuilder MapDeliveriesApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api/v1").RequireAuthorization(Roles.DeliveriesOperate);
        api.MapGet("/deliveries", List);
        api.MapPost("/packages/{id:guid}/deliveries/{partner}/retry", Retry)
            .Accepts<RetryRequest>("application/json").Produces<RetryAccepted>(StatusCodes.Status202Accepted).ProducesValidationProblem()
            .ProducesProblem(StatusCodes.Status404NotFound).ProducesProblem(StatusCodes.Status409Conflict);
        return api;
    }

    public static async Task<Results<Ok<IReadOnlyList<PushEntry>>, ValidationProblem>> List(
        string? state, string? limit, GatewayDb db, CancellationToken cancellationToken)
    {
        var wanted = state is null ? PushState.DeadLettered : StateText.Parse<PushState>(state);
        var take = 100;
        var errors = new Dictionary<string, string[]>();
        if (wanted is null)
        {
            errors["state"] = [$"One of {string.Join(", ", Enum.GetValues<PushState>().Select(s => s.Text()))}."];
        }
        if (limit is not null && (!int.TryParse(limit, NumberStyles.None, CultureInfo.InvariantCulture, out take) || take < 1 || take > 500))
        {
            errors["limit"] = ["Must be a whole number from 1 to 500."];
        }
        if (errors.Count > 0)
        {
            return Problems.Validation(errors);
        }
        var pushes = await db.Webhooks.AsNoTracking().Where(w => w.State == wanted)
            .OrderBy(w => w.CreatedAtUnixMs).ThenBy(w => w.FeedCursor).Take(take).ToListAsync(cancellationToken);
        return TypedResults.Ok<IReadOnlyList<PushEntry>>([.. pushes.Select(w => new PushEntry(w.PackageId, w.Recipient, ToView(w)))]);
    }

    public static async Task<IResult> Retry(
        Guid id, string partner, HttpContext http, GatewayWriter writer, IOptions<WebhookOptions> options, TimeProvider time,
        WebhookSignal pushes, OutboxSignal outbox, ILoggerFactory loggers, CancellationToken cancellationToken)
    {
        var (reason, problem) = await ReadOptionalReasonAsync(http, cancellationToken);
        if (problem is not null)
        {
            return problem;
        }
        var by = http.User.Actor();
        // One change of the gateway's writer: the pushes are read and checked (still dead-lettered) where they are changed.
        // Waited for whatever the caller does: once handed over it may commit, and then its signals and log follow.
        var (result, retried) = await writer.WriteAsync((target, token) => RetryAsync(target, id, partner, by, reason, options.Value.Horizon,
            time.GetUtcNow(), token), CancellationToken.None);
        if (retried > 0)
        {
            outbox.Notify();
            pushes.Notify();
            loggers.CreateLogger(typeof(DeliveriesApi).FullName!).LogInformation(
                "Operator {Operator} sent {Count} dead-lettered pushes of package {PackageId} back to {Recipient}", by, retried, id, partner);
        }
        return result;
    }

    /// <summary>The writer's change of an operator's retry; returns the answer and how many pushes it sent back.</summary>
    private static async Task<(IResult Result, int Retried)> RetryAsync(GatewayDb db, Guid id, string partner, string by, string? reason,
        TimeSpan horizon, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var all = await db.Webhooks.Where(w => w.PackageId == id && w.Recipient == partner).ToListAsync(cancellationToken);
        if (all.Count == 0)
        {
            return (TypedResults.NotFound(), 0);
        }
        var dead = all.Where(w => w.State == PushState.DeadLettered).ToList();
        if (dead.Count == 0)
        {
            return (Problems.Status(StatusCodes.Status409Conflict, "not-dead-lettered",
                "No push of this package to this partner is dead-lettered.", $"Its pushes are {string.Join(", ", all.Select(w => w.State.Text()))}."), 0);
        }

        var endpoint = await db.WebhookEndpoints.SingleOrDefaultAsync(e => e.Partner == partner && e.DisabledAtUnixMs != null, cancellationToken);
        if (endpoint is not null)
        {
            endpoint.DisabledAtUnixMs = null;
            endpoint.DisabledReason = null;
        }
        var state = await db.Recipients.SingleOrDefaultAsync(r => r.PackageId == id && r.Partner == partner, cancellationToken);
        foreach (var push in dead)
        {
            RecipientLife.PushRetried(push, state, now, horizon);
            db.Enqueue(new WebhookRetryRequested
            {
                WebhookId = push.Id,
                PackageId = push.PackageId,
                Recipient = push.Recipient,
                Kind = push.Kind.Text(),
                RequestedBy = by,
                Reason = reason,
                EndpointReenabled = endpoint is not null,
                At = now,
            }, DerivedId.From(push.Id, $"retry/{push.Retries}"), now);
        }
        return (TypedResults.Accepted($"/api/v1/packages/{id}", new RetryAccepted(id, partner, [.. dead.Select(w => w.Id)], endpoint is not null)),
            dead.Count);
    }

    internal static PushView ToView(WebhookDelivery w) => new(
        w.Id, w.Kind, w.State, w.Attempts,
        w.State == PushState.Pending ? DateTimeOffset.FromUnixTimeMilliseconds(w.NextAttemptAtUnixMs) : null,
        w.LastStatusCode, w.LastError,
        w.DeliveredAtUnixMs is { } delivered ? DateTimeOffset.FromUnixTimeMilliseconds(delivered) : null,
        w.Retries);

    /// <summary>An operator may say why; the body is optional.</summary>
    private static async Task<(string? Reason, IResult? Problem)> ReadOptionalReasonAsync(HttpContext http, CancellationToken cancellationToken)
    {
        if (http.Request.ContentLength is null or 0 && http.Request.Headers.TransferEncoding.Count == 0)
        {
            return (null, null);
        }
        var (document, problem) = await JsonBody.ReadAsync(http.Request, cancellationToken);
        if (document is null)
        {
            return (null, problem);
        }
        using (document)
        {
            if (document.RootElement.ValueKind != JsonValueKind.Object || !document.RootElement.TryGetProperty("reason", out var value))
            {
                return (null, null);
            }
            if (value.ValueKind != JsonValueKind.String || value.GetString()!.Length > RecallApi.MaxReasonLength || !Justification.IsPlainText(value.GetString()!))
            {
                return (null, Problems.Validation(new Dictionary<string, string[]>
                {
                    ["reason"] = [$"Optional: a string of at most {RecallApi.MaxReasonLength} characters, without control characters."],
                }));
            }
            return (value.GetString(), null);
        }
    }
}
