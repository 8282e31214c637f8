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
        api.MapPost("/{id:guid}/approve", (Guid id, [FromBody] JsonElement? body, ClaimsPrincipal user, ReferralDecisions decisions, HttpContext http,
            CancellationToken ct) => DecideAsync(id, ReferralVerdict.Approved, body, user, decisions, http, ct))
            .DescribedAsDecision();
        api.MapPost("/{id:guid}/reject", (Guid id, [FromBody] JsonElement? body, ClaimsPrincipal user, ReferralDecisions decisions, HttpContext http,
            CancellationToken ct) => DecideAsync(id, ReferralVerdict.Rejected, body, user, decisions, http, ct))
            .DescribedAsDecision();
        return api;
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

    private static async Task<IResult> DecideAsync(Guid id, ReferralVerdict verdict, JsonElement? body, ClaimsPrincipal user,
        ReferralDecisions decisions, HttpContext http, CancellationToken cancellationToken)
    {
        var decision = ReferralDecisions.Wire(verdict);
        var justification = body is { ValueKind: JsonValueKind.Object } json
            && json.TryGetProperty("justification", out var value) && value.ValueKind == JsonValueKind.String
            ? value.GetString()?.Trim() : null;
        if (string.IsNullOrEmpty(justification) || justification.Length > MaxJustification || !Justification.IsPlainText(justification))
        {
            return Problems.Validation(new Dictionary<string, string[]>
            {
                ["justification"] = [$"Required: why this disclosure is {decision}, 1 to {MaxJustification} characters, without control characters."],
            });
        }

        var result = await decisions.DecideAsync(id, verdict, justification, user, cancellationToken);
        switch (result.Outcome)
        {
            case ReferralOutcome.NotFound:
                return TypedResults.NotFound();
            case ReferralOutcome.AlreadyDecided:
                return Problems.Status(StatusCodes.Status409Conflict, "referral-decided",
                    result.PreviousDecision is { } previous ? $"This referral was already {previous}." : "This referral was already decided.");
            case ReferralOutcome.SubmitterCannotApprove:
                return Problems.Status(StatusCodes.Status403Forbidden, "separation-of-duties", "Whoever submitted a package cannot approve its referral.");
            case ReferralOutcome.BrokerUnavailable:
                http.Response.Headers.RetryAfter = "30";
                return Problems.Status(StatusCodes.Status503ServiceUnavailable, "broker-unavailable",
                    "The message broker did not confirm the decision; nothing was recorded. Try again later.");
            default:
                return TypedResults.Ok(new ReferralDecisionView(id, decision, result.DecidedBy!, result.DecidedAt!.Value));
        }
    }
}
