using MassTransit;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using TOEX.Sharing.Contracts;
using TOEX.Sharing.Gateway.Data;
using TOEX.Sharing.Sealing;
using TOEX.Sharing.ServiceDefaults;

namespace TOEX.Sharing.Gateway.Release;

/// <summary>
/// The one home of the message that asks PolicyDecision for a package's decision: published once on submission (the
/// audit ledger records it too), and sent again to PolicyDecision alone by <see cref="DecisionResender"/>.
/// </summary>
public static class DecisionRequest
{
    /// <summary>
    /// Derived from the package id, so every request for one package has one message id: PolicyDecision derives its
    /// decision's message id from it, and the ledger and the gateway take a decision made again for the one they have.
    /// </summary>
    public static Guid MessageId(Guid packageId) => DerivedId.From(packageId, "package-submitted");

    public static PackageSubmitted For(Submission submission, IntelligencePackage package, SubjectBlindIndex blindIndex) => new()
    {
        PackageId = submission.Id,
        Reference = submission.Reference,
        Originator = submission.Originator,
        SubmittedBy = submission.SubmittedBy,
        SubmittedByPerson = submission.SubmittedByPerson,
        SubmittedAt = submission.SubmittedAt,
        ContentHash = submission.ContentHash,
        Facts = package.ToFacts(),
        SubjectIndexes = blindIndex.Of(package.Subjects),
    };
}

/// <summary>
/// No package stays undecided for good: a submission published but still <c>submitted</c> after
/// <see cref="GatewayOptions.DecisionResendInterval"/> (its <c>PackageSubmitted</c> or its <c>SharingDecided</c> was lost on
/// the broker: a queue purged, a node replaced) is sent to PolicyDecision's endpoint again, the same message under the same
/// message id. It is sent, not published: the audit ledger already has the submission. PolicyDecision decides it (again),
/// under the same derived message id; the gateway acts on the first decision it gets and ignores any other, and the ledger
/// takes a decision made again for the one it has. Each further request for one package waits twice as long, up to
/// <see cref="GatewayOptions.DecisionResendMaxInterval"/>, so a PolicyDecision that is merely slow or down is not flooded.
/// The counts are kept in memory (a restart starts them again, which only shortens the next wait).
/// </summary>
public sealed class DecisionResender(IServiceScopeFactory scopes, PackageVault vault, SubjectBlindIndex blindIndex,
    IOptions<GatewayOptions> options, TimeProvider time, ILogger<DecisionResender> logger) : ResendLoop(time, logger)
{
    /// <summary>Per undecided package: how many times it was asked for (the submission counts as the first) and when last.</summary>
    private readonly Dictionary<Guid, (int Attempts, DateTimeOffset Last)> _asked = [];
    private readonly SemaphoreSlim _round = new(1, 1);

    public static Uri Endpoint { get; } = new($"exchange:{SentEndpoints.PolicyDecisionPackageSubmitted}");

    protected override TimeSpan Interval => options.Value.DecisionResendInterval;

    protected override string RoundFailed => "Undecided submissions could not be sent to PolicyDecision again; will retry";

    protected override Task RoundAsync(CancellationToken cancellationToken) => ResendDueAsync(cancellationToken);

    /// <summary>Sends PolicyDecision every undecided submission whose wait is over; returns how many were sent.</summary>
    internal async Task<int> ResendDueAsync(CancellationToken cancellationToken)
    {
        await _round.WaitAsync(cancellationToken);
        try
        {
            await using var scope = scopes.CreateAsyncScope();
            var db = scope.ServiceProvider.GetRequiredService<GatewayDb>();
            var now = Time.GetUtcNow();
            var (interval, max) = (options.Value.DecisionResendInterval, options.Value.DecisionResendMaxInterval);
            // Undecided are only the packages in flight (few unless PolicyDecision is down): their ids and ages only.
            var undecided = await db.Submissions.AsNoTracking().Where(s => s.Published && s.Status == SubmissionStatus.Submitted)
                .Select(s => new { s.Id, s.SubmittedAt }).ToListAsync(cancellationToken);
            foreach (var decided in _asked.Keys.Except(undecided.Select(s => s.Id)).ToList())
            {
                _asked.Remove(decided);
            }
            var due = undecided.Where(s =>
            {
                var (attempts, last) = _asked.GetValueOrDefault(s.Id, (1, s.SubmittedAt));
                return now - last >= Backoff(attempts, interval, max);
            }).Select(s => s.Id).ToList();
            if (due.Count == 0)
            {
                return 0;
            }
            var endpoint = await scope.ServiceProvider.GetRequiredService<ISendEndpointProvider>().GetSendEndpoint(Endpoint);
            var sent = 0;
            foreach (var id in due)
            {
                var submission = await db.Submissions.AsNoTracking().SingleOrDefaultAsync(
                    s => s.Id == id && s.Status == SubmissionStatus.Submitted, cancellationToken);
                if (submission is null)
                {
                    continue;
                }
                var package = ToexJson.Deserialize<IntelligencePackage>(vault.Open(submission.Id, submission.PackageJson));
                using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                timeout.CancelAfter(options.Value.PublishTimeout);
                await endpoint.Send(DecisionRequest.For(submission, package, blindIndex),
                    send => send.MessageId = DecisionRequest.MessageId(submission.Id), timeout.Token);
                var attempts = (_asked.TryGetValue(id, out var asked) ? asked.Attempts : 1) + 1;
                _asked[id] = (attempts, Time.GetUtcNow());
                sent++;
                // The package by its id and the count only: never its content.
                logger.LogWarning("Package {PackageId} is still undecided since {SubmittedAt:O}: its decision was asked of PolicyDecision again "
                    + "(request {Attempts})", id, submission.SubmittedAt, attempts);
            }
            return sent;
        }
        finally
        {
            _round.Release();
        }
    }

    public override void Dispose()
    {
        _round.Dispose();
        base.Dispose();
    }
}
