using System.Security.Claims;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using TOEX.Sharing.Contracts;
using TOEX.Sharing.Gateway.Data;
using TOEX.Sharing.Gateway.Core;
using TOEX.Sharing.Gateway.Release;
using TOEX.Sharing.ServiceDefaults;

namespace TOEX.Sharing.Gateway.Apis;

public sealed record RecallAccepted(Guid Id, string Status, IReadOnlyList<string> Notified, IReadOnlyList<string> Withdrawn, IReadOnlyList<string> Pending);


/// <summary>
/// The originator recalls a package. A recipient that had it (its endpoint accepted the push, or its feed returned
/// it) is sent a signed, sealed recall notice by its own channel; one that had not is withdrawn: its push is
/// cancelled and its feed item is never served. One whose push is under way at that moment is settled by the
/// dispatcher when the attempt ends (notified if accepted, withdrawn otherwise). A package recalled before its
/// decision is never released. All of it, and the events, are one change of the gateway's writer, so it commits in one
/// transaction and is ordered with every other change (a release, a push claim) of this gateway.
/// </summary>
public static class RecallApi
{
    public const int MaxReasonLength = 2000;

    /// <summary>
    /// How many times a recall is tried again when the package changed under it. Within one gateway the writer orders the
    /// recall with every release and claim, so this is another gateway's commit on a shared PostgreSQL store.
    /// </summary>
    private const int Attempts = 5;

    public static async Task<IResult> Recall(
        Guid id, HttpContext http, GatewayWriter writer, IServiceScopeFactory scopes, ILoggerFactory loggers, CancellationToken cancellationToken)
    {
        var (reason, problem) = await ReadReasonAsync(http, cancellationToken);
        if (reason is null)
        {
            return problem!;
        }
        var logger = loggers.CreateLogger(typeof(RecallApi).FullName!);
        for (var attempt = 1; ; attempt++)
        {
            await using var scope = scopes.CreateAsyncScope();
            try
            {
                // Waited for whatever the caller does: once the recall is handed over it may commit, and then its signals and log follow.
                var (result, releaser, summary) = await writer.WriteAsync(
                    (target, token) => RecallOnceAsync(id, reason, http.User, target, scope.ServiceProvider, token), CancellationToken.None);
                if (releaser is not null)
                {
                    releaser.NotifyCommitted();
                    logger.LogInformation("Package {PackageId} recalled: {NotifiedCount} recipients notified, {WithdrawnCount} withdrawn",
                        id, summary!.Notified.Count, summary.Withdrawn.Count);
                }
                return result;
            }
            catch (DbUpdateConcurrencyException)
            {
                logger.LogInformation("Recall of package {PackageId} met a release committed meanwhile (attempt {Attempt})", id, attempt);
                if (attempt == Attempts)
                {
                    http.Response.Headers.RetryAfter = "1";
                    return Problems.Status(StatusCodes.Status503ServiceUnavailable, "recall-contended",
                        "The package kept changing while it was being recalled; nothing was recalled. Repeat the request.");
                }
            }
        }
    }

    /// <summary>
    /// The writer's change: reads the package as it is now (what a recipient had, or will never have, is decided on it) and
    /// recalls it. Rare and one per human action, so the few recall notices are sealed inside the change, by a fresh
    /// releaser each time it is applied; returns the releaser (null when nothing was recalled now) to wake the outbox and
    /// the dispatcher once committed.
    /// </summary>
    private static async Task<(IResult Result, Releaser? Releaser, RecallAccepted? Summary)> RecallOnceAsync(
        Guid id, string reason, ClaimsPrincipal user, GatewayDb db, IServiceProvider services, CancellationToken cancellationToken)
    {
        var submission = await db.Submissions.Include(s => s.Recipients).SingleOrDefaultAsync(s => s.Id == id, cancellationToken);
        if (submission is null || submission.Originator != user.Organisation())
        {
            return (TypedResults.NotFound(), null, null);
        }
        if (submission.RecalledAt is not null)
        {
            // Recalled once: repeating it changes nothing.
            return (TypedResults.Accepted($"/api/v1/packages/{id}", Summary(submission)), null, null);
        }

        var releaser = ActivatorUtilities.CreateInstance<Releaser>(services);
        submission.Touch();
        var now = releaser.Now;
        var by = user.Actor();
        submission.Status = SubmissionStatus.Recalled;
        submission.RecalledAt = now;
        submission.RecalledBy = by;
        submission.RecallReason = reason;
        foreach (var state in submission.Recipients.OrderBy(r => r.Position))
        {
            // Never released: it never will be (a decision or approval arriving later releases nothing).
            if (await RecipientLife.RecallAsync(db, state, now, cancellationToken) == RecallAction.Notified)
            {
                releaser.ReleaseRecallNotice(submission, state);
            }
        }
        var summary = Summary(submission);
        releaser.Enqueue(new PackageRecalled
        {
            PackageId = submission.Id,
            Reference = submission.Reference,
            Originator = submission.Originator,
            RecalledBy = by,
            Reason = reason,
            Notified = summary.Notified,
            Withdrawn = summary.Withdrawn,
            Pending = summary.Pending,
            At = now,
        }, DerivedId.From(submission.Id, "recalled"));
        await releaser.WriteAsync(db, cancellationToken);
        return (TypedResults.Accepted($"/api/v1/packages/{id}", summary), releaser, summary);
    }

    private static RecallAccepted Summary(Submission submission)
    {
        List<string> With(RecallAction action) => [.. submission.Recipients.Where(r => r.RecallAction == action).OrderBy(r => r.Position).Select(r => r.Partner)];
        return new(submission.Id, submission.Status, With(RecallAction.Notified), With(RecallAction.Withdrawn), With(RecallAction.Pending));
    }

    private static async Task<(string? Reason, IResult? Problem)> ReadReasonAsync(HttpContext http, CancellationToken cancellationToken)
    {
        var (document, problem) = await JsonBody.ReadAsync(http.Request, cancellationToken);
        if (document is null)
        {
            return (null, problem);
        }
        using (document)
        {
            var root = document.RootElement;
            var reason = root.ValueKind == JsonValueKind.Object && root.TryGetProperty("reason", out var value) && value.ValueKind == JsonValueKind.String
                ? value.GetString()!.Trim()
                : null;
            if (string.IsNullOrEmpty(reason) || reason.Length > MaxReasonLength || !Justification.IsPlainText(reason))
            {
                return (null, Problems.Validation(new Dictionary<string, string[]>
                {
                    ["reason"] = [$"Required: why the package is recalled, 1 to {MaxReasonLength} characters, without control characters."],
                }));
            }
            return (reason, null);
        }
    }
}
