using System.Globalization;
using System.Security.Claims;
using System.Security.Cryptography;
using System.Text.Json;
using MassTransit;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using TOEX.Sharing.Contracts;
using TOEX.Sharing.Gateway.Core;
using TOEX.Sharing.Gateway.Data;
using TOEX.Sharing.Gateway.Delivery;
using TOEX.Sharing.Gateway.Release;
using TOEX.Sharing.Gateway.Validation;
using TOEX.Sharing.Policy;
using TOEX.Sharing.Sealing;
using TOEX.Sharing.ServiceDefaults;

namespace TOEX.Sharing.Gateway.Apis;

public sealed record SubmissionAccepted(Guid Id, string Status);

/// <summary>
/// A recipient's delivery: <c>state</c>, <c>attempts</c> and <c>lastError</c> as in API.md (for a push partner,
/// those of its push), the <c>channel</c> (push or pull), the push itself, and the acknowledgement it owes.
/// </summary>
public sealed record DeliveryView(
    DeliveryState State, int Attempts, string? LastError, string Channel, PushView? Push, AcknowledgementView? Acknowledgement);

public sealed record AcknowledgementView(bool Required, DateTimeOffset? DueAt, DateTimeOffset? AcknowledgedAt, bool Overdue);

/// <summary>What a recall did for one recipient: notified (with the notice's push, and its acknowledgement) or withdrawn.</summary>
public sealed record RecipientRecallView(RecallAction Action, PushView? Push, DateTimeOffset? AcknowledgedAt);

public sealed record RecallView(DateTimeOffset At, string By, string Reason);

public sealed record ReferralState(Guid Id, string? Decision, string? DecidedBy, DateTimeOffset? DecidedAt, string? Justification);

public sealed record RecipientView(
    string Partner, Outcome? Outcome, string? Agreement, IReadOnlyList<Reason> Reasons,
    IReadOnlyList<Obligation> Obligations, DeliveryView Delivery, ReferralState? Referral, RecipientRecallView? Recall);

public sealed record PackageView(
    Guid Id, string Reference, string Status, DateTimeOffset SubmittedAt, DateTimeOffset? DecidedAt,
    string? PolicyVersion, IReadOnlyList<RecipientView> Recipients, RecallView? Recall);

public static class PackagesApi
{
    public static RouteGroupBuilder MapPackagesApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api/v1");
        api.MapPost("/packages", Submit).RequireAuthorization(Roles.PackagesSubmit)
            .Accepts<IntelligencePackage>("application/json").Produces<SubmissionAccepted>(StatusCodes.Status202Accepted)
            .ProducesValidationProblem().ProducesProblem(StatusCodes.Status403Forbidden).ProducesProblem(StatusCodes.Status409Conflict)
            .ProducesProblem(StatusCodes.Status413PayloadTooLarge).ProducesProblem(StatusCodes.Status415UnsupportedMediaType)
            .ProducesProblem(StatusCodes.Status503ServiceUnavailable).AddEndpointFilter<BrokerGate>();
        api.MapGet("/packages/{id:guid}", GetPackage).RequireAuthorization(Roles.PackagesSubmit);
        api.MapPost("/packages/{id:guid}/recall", RecallApi.Recall).RequireAuthorization(Roles.PackagesSubmit)
            .Accepts<RecallRequest>("application/json").Produces<RecallAccepted>(StatusCodes.Status202Accepted)
            .ProducesValidationProblem().ProducesProblem(StatusCodes.Status404NotFound);
        api.MapPost("/simulations", Simulate).RequireAuthorization(Roles.PackagesSubmit)
            .Accepts<IntelligencePackage>("application/json").Produces<DecisionDocument>()
            .ProducesValidationProblem().ProducesProblem(StatusCodes.Status403Forbidden);
        return api;
    }

    public static async Task<IResult> Submit(
        HttpContext http, GatewayDb db, GatewayWriter writer, IPublishEndpoint publisher, IOptions<GatewayOptions> options, SubjectBlindIndex blindIndex,
        PackageVault vault, TimeProvider time, ILoggerFactory loggers, CancellationToken cancellationToken)
    {
        var logger = loggers.CreateLogger(typeof(PackagesApi).FullName!);
        var (package, problem) = await ReadPackageAsync(http, time, cancellationToken);
        if (package is null)
        {
            return problem!;
        }

        var canonical = ToexJson.Serialize(package);
        var contentHash = "sha256:" + Convert.ToHexStringLower(SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(canonical)));

        var existing = await db.Submissions.AsNoTracking()
            .SingleOrDefaultAsync(s => s.Originator == package.Originator && s.Reference == package.Reference, cancellationToken);
        if (existing is null)
        {
            var id = NewId.NextGuid();
            var submittedAt = AsStored(time.GetUtcNow());
            // Encrypted at rest under the package's own data key: the store alone reveals nothing of it. Done before the
            // writer takes the change, which only checks and inserts.
            var protectedJson = vault.Protect(id, canonical);
            var (actor, person) = (http.User.Actor(), http.User.Person());
            try
            {
                // Checked again by the writer, which serialises it with every other write: a reference submitted
                // concurrently is found there and answered as a repeated submission.
                existing = await writer.WriteAsync(async (target, token) =>
                {
                    var found = await target.Submissions.AsNoTracking()
                        .SingleOrDefaultAsync(s => s.Originator == package.Originator && s.Reference == package.Reference, token);
                    if (found is not null)
                    {
                        return found;
                    }
                    var submission = new Submission
                    {
                        Id = id,
                        Reference = package.Reference,
                        Originator = package.Originator,
                        ContentHash = contentHash,
                        SubmittedBy = actor,
                        SubmittedByPerson = person,
                        SubmittedAt = submittedAt,
                        PackageJson = protectedJson,
                        Status = SubmissionStatus.Submitted,
                        Recipients = [.. package.Recipients.Select(RecipientLife.Submitted)],
                    };
                    target.Submissions.Add(submission);
                    return submission;
                }, cancellationToken);
            }
            catch (DbUpdateException e) when (!StoreFailures.IsTransient(e))
            {
                // The same reference arrived concurrently at another gateway on the store: answer as for a repeated
                // submission. (A store cut off meanwhile is not that: 503, and the caller's retry finds the submission if
                // its commit got through.)
                existing = await db.Submissions.AsNoTracking()
                    .SingleAsync(s => s.Originator == package.Originator && s.Reference == package.Reference, cancellationToken);
            }
        }

        if (existing.ContentHash != contentHash)
        {
            ToexTelemetry.Submissions.Add(1, new KeyValuePair<string, object?>("result", "conflict"));
            return Problems.Status(StatusCodes.Status409Conflict, "reference-conflict",
                "A different package was already submitted with this reference.",
                $"Reference '{package.Reference}' is package {existing.Id}.");
        }

        if (!existing.Published)
        {
            var published = await PublishAsync(existing, package, blindIndex, publisher, options.Value, logger, cancellationToken);
            if (!published)
            {
                // Unconfirmed is not unsent: the broker may have the message and confirm it late, and the package then
                // goes on to be decided. The submission is kept (not yet published) under its id, so that the caller's
                // retry with the same reference is the same package, published again under the same message id, and
                // never a second package with the same content (a duplicate disclosure).
                ToexTelemetry.Submissions.Add(1, new KeyValuePair<string, object?>("result", "broker-unavailable"));
                http.Response.Headers.RetryAfter = options.Value.RetryAfterSeconds.ToString(CultureInfo.InvariantCulture);
                return Problems.Status(StatusCodes.Status503ServiceUnavailable, "broker-unavailable",
                    "The message broker did not confirm the submission in time. Submit it again with the same reference: "
                    + "it is one package, never two.");
            }
            var publishedId = existing.Id;
            await writer.WriteAsync((target, token) => target.Submissions.Where(s => s.Id == publishedId)
                .ExecuteUpdateAsync(s => s.SetProperty(x => x.Published, true), token), CancellationToken.None);
            logger.LogInformation("Package {PackageId} ({Reference}) accepted from {Originator} for {RecipientCount} recipients",
                existing.Id, existing.Reference, existing.Originator, package.Recipients.Count);
            ToexTelemetry.Submissions.Add(1, new KeyValuePair<string, object?>("result", "accepted"));
        }
        else
        {
            ToexTelemetry.Submissions.Add(1, new KeyValuePair<string, object?>("result", "repeated"));
        }
        System.Diagnostics.Activity.Current?.SetTag("toex.package_id", existing.Id.ToString());

        return TypedResults.Accepted($"/api/v1/packages/{existing.Id}", new SubmissionAccepted(existing.Id, existing.Status));
    }

    /// <summary>
    /// An instant at the precision every store keeps (whole microseconds: PostgreSQL's). The submission's time is in its
    /// <c>PackageSubmitted</c>, which is published again from the stored row when the caller repeats a submission whose
    /// publish could not be marked done (the store went down between the two): the same event under the same message id
    /// must be the same content, byte for byte, or the ledger refuses it as a conflicting event.
    /// </summary>
    private static DateTimeOffset AsStored(DateTimeOffset instant) =>
        instant.AddTicks(-(instant.UtcTicks % TimeSpan.TicksPerMicrosecond));

    private static async Task<bool> PublishAsync(Submission submission, IntelligencePackage package, SubjectBlindIndex blindIndex,
        IPublishEndpoint publisher, GatewayOptions options, ILogger logger, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(options.PublishTimeout);
        try
        {
            await publisher.Publish(DecisionRequest.For(submission, package, blindIndex),
                publish => publish.MessageId = DecisionRequest.MessageId(submission.Id), timeout.Token);
            return true;
        }
        catch (Exception e) when (!cancellationToken.IsCancellationRequested)
        {
            logger.LogWarning("Package {PackageId} not published: the broker did not confirm ({Error})", submission.Id, e.GetType().Name);
            return false;
        }
    }

    public const string StatusJustification = "The originator checked the status of its own submission; no further justification given.";

    /// <summary>The package's status for its originator; recorded for the audit ledger as a consultation (s62).</summary>
    public static async Task<Results<Ok<PackageView>, NotFound, ValidationProblem>> GetPackage(
        Guid id, ClaimsPrincipal user, GatewayDb db, WebhookEndpoints endpoints, ConsultationLog consultations, HttpRequest request, CancellationToken cancellationToken)
    {
        var (justification, invalid) = Justification.Read(request, StatusJustification);
        if (invalid is not null)
        {
            return invalid;
        }
        var organisation = user.FindFirst(Authentication.OrganisationClaim)?.Value;
        // One snapshot: a push and its recipient's state change together, and the view shows them as they were together.
        List<WebhookDelivery> pushes;
        Submission? submission;
        await using (await db.Database.ReadSnapshotAsync(cancellationToken))
        {
            pushes = await db.Webhooks.AsNoTracking().Where(w => w.PackageId == id).ToListAsync(cancellationToken);
            submission = await db.Submissions.AsNoTracking().Include(s => s.Recipients)
                .SingleOrDefaultAsync(s => s.Id == id, cancellationToken);
        }
        if (submission is null || submission.Originator != organisation)
        {
            // Another organisation's package does not exist, as far as this caller can tell.
            return TypedResults.NotFound();
        }
        await consultations.RecordAsync(ConsultationLog.PackageStatus, user, justification!,
            [new ConsultedItem { PackageId = submission.Id, Originator = submission.Originator }],
            new Dictionary<string, string> { ["reference"] = submission.Reference }, cancellationToken);
        return TypedResults.Ok(ToView(submission, pushes, endpoints));
    }

    internal static PackageView ToView(Submission submission, IReadOnlyList<WebhookDelivery> pushes, WebhookEndpoints endpoints) => new(
        submission.Id, submission.Reference, submission.Status, submission.SubmittedAt, submission.DecidedAt,
        submission.PolicyVersion,
        [.. submission.Recipients.OrderBy(r => r.Position).Select(r =>
        {
            var push = pushes.SingleOrDefault(w => w.Recipient == r.Partner && w.Kind == ItemKind.Package) is { } p ? DeliveriesApi.ToView(p) : null;
            var notice = pushes.SingleOrDefault(w => w.Recipient == r.Partner && w.Kind == ItemKind.Recall) is { } n ? DeliveriesApi.ToView(n) : null;
            var obligations = r.ObligationsJson is null ? [] : ToexJson.Deserialize<List<Obligation>>(r.ObligationsJson);
            return new RecipientView(
                r.Partner, r.Outcome, r.Agreement,
                r.ReasonsJson is null ? [] : ToexJson.Deserialize<List<Reason>>(r.ReasonsJson),
                obligations,
                new DeliveryView(r.DeliveryState, push?.Attempts ?? r.Attempts, push?.LastError ?? r.LastError,
                    endpoints.IsPush(r.Partner) ? "push" : "pull", push,
                    r.ReleasedAt is null ? null : new AcknowledgementView(
                        r.AcknowledgementDueAtUnixMs is not null,
                        r.AcknowledgementDueAtUnixMs is { } due ? DateTimeOffset.FromUnixTimeMilliseconds(due) : null,
                        r.AcknowledgedAt, r.OverdueAt is not null && r.AcknowledgedAt is null)),
                r.ReferralId is { } referral
                    ? new ReferralState(referral, r.ReferralDecision, r.ReferralDecidedBy, r.ReferralDecidedAt, r.ReferralJustification)
                    : null,
                r.RecallAction is { } action ? new RecipientRecallView(action, notice, r.RecallAcknowledgedAt) : null);
        })],
        submission.RecalledAt is { } at ? new RecallView(at, submission.RecalledBy!, submission.RecallReason!) : null);

    public static async Task<IResult> Simulate(
        HttpContext http, string? at, PolicyEngine engine, TimeProvider time, CancellationToken cancellationToken)
    {
        var instant = time.GetUtcNow();
        if (at is not null && !DateTimeOffset.TryParse(at, CultureInfo.InvariantCulture,
                DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out instant))
        {
            return Problems.Validation(new Dictionary<string, string[]> { ["at"] = ["Malformed instant: expected ISO-8601, e.g. 2026-11-25T12:00:00Z."] });
        }
        var (package, problem) = await ReadPackageAsync(http, time, cancellationToken);
        if (package is null)
        {
            return problem!;
        }
        return TypedResults.Ok(engine.Decide(package.ToFacts(), instant));
    }

    /// <summary>Reads, validates and binds a package, and checks the caller speaks for its originator.</summary>
    private static async Task<(IntelligencePackage? Package, IResult? Problem)> ReadPackageAsync(HttpContext http, TimeProvider time,
        CancellationToken cancellationToken)
    {
        var (package, problem) = await ParsePackageAsync(http.Request, time, cancellationToken);
        if (package is null)
        {
            return (null, problem);
        }
        if (package.Originator != http.User.Organisation())
        {
            // Names the field and what it must hold (the caller's own organisation); nothing about the other one.
            var mismatch = Problems.Status(StatusCodes.Status403Forbidden, "originator-mismatch",
                "The originator is not the caller's organisation.",
                "Submit as your own organisation, or with a token of the originator's organisation.");
            mismatch.ProblemDetails.Extensions["errors"] = new Dictionary<string, string[]>
            {
                ["originator"] = [$"Must be the caller's organisation, '{http.User.Organisation()}'."],
            };
            return (null, mismatch);
        }
        return (package, null);
    }

    /// <summary>
    /// What the gateway does with a submission's body before it looks at the caller: read it as I-JSON within the size
    /// limit (<see cref="JsonBody"/>), validate it (<see cref="PackageValidator"/>) and bind it. A refusal is the problem
    /// to answer, never an exception (the fuzz target <c>package</c> drives this).
    /// </summary>
    public static async Task<(IntelligencePackage? Package, IResult? Problem)> ParsePackageAsync(HttpRequest request, TimeProvider time,
        CancellationToken cancellationToken)
    {
        var (document, problem) = await JsonBody.ReadAsync(request, cancellationToken);
        if (document is null)
        {
            return (null, problem);
        }
        using (document)
        {
            var errors = PackageValidator.Validate(document.RootElement, DateOnly.FromDateTime(time.GetUtcNow().UtcDateTime));
            if (errors.Count > 0)
            {
                return (null, Problems.Validation(errors));
            }
            try
            {
                return (document.RootElement.Deserialize<IntelligencePackage>(ToexJson.Options)!, null);
            }
            catch (JsonException e)
            {
                return (null, Problems.Validation(new Dictionary<string, string[]> { [e.Path ?? "$"] = ["Invalid value."] }));
            }
        }
    }
}
