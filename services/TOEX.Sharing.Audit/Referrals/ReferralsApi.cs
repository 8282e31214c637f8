using System.Security.Claims;
using System.Text.Json;
using MassTransit;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.EntityFrameworkCore;
using TOEX.Sharing.Audit.Data;
using TOEX.Sharing.Contracts;
using TOEX.Sharing.ServiceDefaults;

namespace TOEX.Sharing.Audit.Referrals;

public sealed record ReferralView(
    Guid Id, Guid PackageId, string? Originator, string Recipient, string? Agreement, IReadOnlyList<Reason> Reasons,
    IReadOnlyList<Obligation> Obligations, DateTimeOffset ReferredAt, string? SubmittedBy);

public sealed record ReferralPage(IReadOnlyList<ReferralView> Items);

public sealed record ReferralDecisionView(Guid Id, string Decision, string DecidedBy, DateTimeOffset DecidedAt);

/// <summary>
/// Referred disclosures (API.md): listed oldest first to the originating organisation's IG officers, who
/// approve (the gateway then releases through the normal flow) or reject (a deny), each with a mandatory
/// justification recorded with the officer's identity. Whoever submitted a package cannot approve its
/// referral; a referral decided twice is answered 409.
/// </summary>
public static class ReferralsApi
{
    public const int MaxJustification = 4_000;

    public static RouteGroupBuilder MapReferralsApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api/v1/referrals").RequireAuthorization(Roles.DisclosuresApprove);
        api.MapGet("/", List);
        api.MapPost("/{id:guid}/approve", (Guid id, [FromBody] JsonElement? body, ClaimsPrincipal user, AuditDb db, IPublishEndpoint publisher,
            TimeProvider time, HttpContext http, CancellationToken ct) => DecideAsync(id, "approved", body, user, db, publisher, time, http, ct));
        api.MapPost("/{id:guid}/reject", (Guid id, [FromBody] JsonElement? body, ClaimsPrincipal user, AuditDb db, IPublishEndpoint publisher,
            TimeProvider time, HttpContext http, CancellationToken ct) => DecideAsync(id, "rejected", body, user, db, publisher, time, http, ct));
        return api;
    }

    /// <summary>The originator and submitter of a package, from its submission entry in the ledger.</summary>
    private static async Task<(string? Originator, string? SubmittedBy)> SubmissionOfAsync(AuditDb db, Guid packageId, CancellationToken ct)
    {
        var entry = await db.Entries.AsNoTracking().Where(e => e.PackageId == packageId && e.Type == "submission")
            .Select(e => new { e.Originator, e.Actor }).FirstOrDefaultAsync(ct);
        return (entry?.Originator, entry?.Actor);
    }

    public static async Task<Ok<ReferralPage>> List(ClaimsPrincipal user, AuditDb db, CancellationToken cancellationToken)
    {
        var organisation = user.Organisation();
        var pending = await db.Referrals.AsNoTracking().Where(r => r.Decision == null)
            .Join(db.Entries.AsNoTracking().Where(e => e.Type == "submission" && e.Originator == organisation),
                r => r.PackageId, e => e.PackageId, (r, e) => new { r, e.Originator, e.Actor })
            .OrderBy(x => x.r.ReferredAtUnixMs).ThenBy(x => x.r.Id)
            .Take(1000)
            .ToListAsync(cancellationToken);
        return TypedResults.Ok(new ReferralPage([.. pending.Select(x => new ReferralView(
            x.r.Id, x.r.PackageId, x.Originator, x.r.Recipient, x.r.Agreement,
            ToexJson.Deserialize<List<Reason>>(x.r.ReasonsJson), ToexJson.Deserialize<List<Obligation>>(x.r.ObligationsJson),
            DateTimeOffset.FromUnixTimeMilliseconds(x.r.ReferredAtUnixMs), x.Actor))]));
    }

    internal static async Task<IResult> DecideAsync(Guid id, string decision, JsonElement? body, ClaimsPrincipal user, AuditDb db,
        IPublishEndpoint publisher, TimeProvider time, HttpContext http, CancellationToken cancellationToken)
    {
        var justification = body is { ValueKind: JsonValueKind.Object } json
            && json.TryGetProperty("justification", out var value) && value.ValueKind == JsonValueKind.String
            ? value.GetString()?.Trim() : null;
        if (string.IsNullOrEmpty(justification) || justification.Length > MaxJustification)
        {
            return Problems.Validation(new Dictionary<string, string[]>
            {
                ["justification"] = [$"Required: why this disclosure is {decision}, 1 to {MaxJustification} characters."],
            });
        }

        var referral = await db.Referrals.AsNoTracking().SingleOrDefaultAsync(r => r.Id == id, cancellationToken);
        var (originator, submittedBy) = referral is null ? (null, null) : await SubmissionOfAsync(db, referral.PackageId, cancellationToken);
        if (referral is null || originator is null || originator != user.Organisation())
        {
            return TypedResults.NotFound();
        }
        if (referral.Decision is not null)
        {
            return Problems.Status(StatusCodes.Status409Conflict, "referral-decided", $"This referral was already {referral.Decision}.");
        }
        var officer = user.Actor();
        if (decision == "approved" && officer == submittedBy)
        {
            return Problems.Status(StatusCodes.Status403Forbidden, "separation-of-duties", "Whoever submitted a package cannot approve its referral.");
        }

        var now = time.GetUtcNow();
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        // Claim the referral: of two officers deciding at once, exactly one succeeds.
        var claimed = await db.Referrals.Where(r => r.Id == id && r.Decision == null).ExecuteUpdateAsync(set => set
            .SetProperty(r => r.Decision, decision)
            .SetProperty(r => r.DecidedBy, officer)
            .SetProperty(r => r.Justification, justification)
            .SetProperty(r => r.DecidedAtUnixMs, now.ToUnixTimeMilliseconds()), cancellationToken);
        if (claimed == 0)
        {
            return Problems.Status(StatusCodes.Status409Conflict, "referral-decided", "This referral was already decided.");
        }

        // Answered only once the broker confirmed the decision; otherwise nothing is recorded.
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(10));
        try
        {
            await publisher.Publish(new ReferralDecided
            {
                ReferralId = id,
                PackageId = referral.PackageId,
                Originator = originator,
                Recipient = referral.Recipient,
                Agreement = referral.Agreement,
                Decision = decision,
                DecidedBy = officer,
                Justification = justification,
                DecidedAt = now,
            }, publish => publish.MessageId = DerivedId.From(id, "referral-decided"), timeout.Token);
        }
        catch (Exception) when (!cancellationToken.IsCancellationRequested)
        {
            await transaction.RollbackAsync(CancellationToken.None);
            http.Response.Headers.RetryAfter = "30";
            return Problems.Status(StatusCodes.Status503ServiceUnavailable, "broker-unavailable",
                "The message broker did not confirm the decision; nothing was recorded. Try again later.");
        }
        await transaction.CommitAsync(CancellationToken.None);
        return TypedResults.Ok(new ReferralDecisionView(id, decision, officer, now));
    }

}
