using TOEX.Sharing.ServiceDefaults;
using System.Globalization;
using MassTransit;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;
using TOEX.Sharing.Contracts;
using TOEX.Sharing.Gateway.Data;

namespace TOEX.Sharing.Gateway.Release;

/// <summary>How far the audit ledger is behind the gateway's events, and whether releases are held for it.</summary>
public sealed record AuditLag(bool Holding, TimeSpan Lag, DateTimeOffset? OldestUnconfirmed, string? Reason);

/// <summary>
/// Fail closed on the audit ledger (issue: DPA 2018 s62 must hold for every disclosure): every event the gateway
/// publishes through its outbox (releases, rejections, consultations) waits for the audit worker's
/// <see cref="AuditRecorded"/>. When the oldest one has waited longer than <see cref="GatewayOptions.AuditLagLimit"/>,
/// releases are held, not lost: the decision is stored, the copy is made only once the ledger has caught up.
/// </summary>
public sealed class AuditGate(IOptions<GatewayOptions> options, TimeProvider time)
{
    public async Task<AuditLag> CheckAsync(GatewayDb db, CancellationToken cancellationToken)
    {
        var oldest = await db.Outbox.AsNoTracking().Where(o => o.ConfirmedAt == null).OrderBy(o => o.Sequence)
            .Select(o => (DateTimeOffset?)o.CreatedAt).FirstOrDefaultAsync(cancellationToken);
        var limit = options.Value.AuditLagLimit;
        var lag = oldest is { } since ? time.GetUtcNow() - since : TimeSpan.Zero;
        ServiceDefaults.ToexTelemetry.ReportAuditLag(lag);
        return lag <= limit
            ? new AuditLag(false, lag, oldest, null)
            : new AuditLag(true, lag, oldest, string.Create(CultureInfo.InvariantCulture,
                $"Releases are held: the audit ledger has not confirmed the gateway's events since {oldest:O} ({Describe(lag)}; the limit is {Describe(limit)}). Held copies are released automatically once it catches up."));
    }

    private static string Describe(TimeSpan span) => span.TotalMinutes >= 1
        ? string.Create(CultureInfo.InvariantCulture, $"{(int)span.TotalMinutes} min {span.Seconds} s")
        : string.Create(CultureInfo.InvariantCulture, $"{span.Seconds} s");
}

/// <summary><c>/health</c>: degraded, saying why, while releases are held for the audit ledger.</summary>
public sealed class AuditLedgerHealthCheck(GatewayDb db, AuditGate gate) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var lag = await gate.CheckAsync(db, cancellationToken);
        return lag.Holding ? HealthCheckResult.Degraded(lag.Reason) : HealthCheckResult.Healthy();
    }
}

/// <summary>The audit worker has an event of the gateway in its ledger: marks it confirmed, and wakes held releases.</summary>
public sealed class AuditRecordedConsumer(GatewayDb db, HeldReleasesSignal held) : IConsumer<AuditRecorded>
{
    public async Task Consume(ConsumeContext<AuditRecorded> context)
    {
        var message = context.Message;
        var confirmed = await db.Outbox.Where(o => o.MessageId == message.MessageId && o.ConfirmedAt == null)
            .ExecuteUpdateAsync(set => set.SetProperty(o => o.ConfirmedAt, message.RecordedAt.ToUniversalTime()), context.CancellationToken);
        if (confirmed > 0)
        {
            held.Notify();
        }
    }
}

public sealed class AuditRecordedConsumerDefinition : DurableConsumerDefinition<AuditRecordedConsumer>;

/// <summary>
/// Releases what was held while the ledger lagged, once it has caught up: woken by each confirmation, and every
/// few seconds. Each held copy is made exactly as it would have been (on the decision's or the officer's authority);
/// the feed's unique item per recipient and package keeps a copy from being released twice.
/// </summary>
public sealed class HeldReleases(IServiceScopeFactory scopes, HeldReleasesSignal signal, ILogger<HeldReleases> logger) : BackgroundService
{
    private const int Batch = 50;
    private static readonly TimeSpan Poll = TimeSpan.FromSeconds(2);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                while (await ReleaseBatchAsync(stoppingToken))
                {
                }
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e)
            {
                logger.LogWarning(e, "Held releases could not be resumed; will retry");
            }
            try
            {
                await signal.WaitAsync(Poll, stoppingToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    /// <summary>Releases up to one batch if the ledger has caught up; true when there may be more.</summary>
    private async Task<bool> ReleaseBatchAsync(CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<GatewayDb>();
        if (!await db.Recipients.AnyAsync(r => r.DeliveryState == DeliveryState.Held, cancellationToken))
        {
            return false;
        }
        var releaser = scope.ServiceProvider.GetRequiredService<Releaser>();
        if ((await releaser.AuditLagAsync(cancellationToken)).Holding)
        {
            return false;
        }
        var held = await db.Recipients.Where(r => r.DeliveryState == DeliveryState.Held)
            .OrderBy(r => r.PackageId).ThenBy(r => r.Position).Take(Batch).ToListAsync(cancellationToken);
        var ids = held.Select(r => r.PackageId).Distinct().ToList();
        var submissions = await db.Submissions.Where(s => ids.Contains(s.Id)).ToDictionaryAsync(s => s.Id, cancellationToken);
        foreach (var state in held)
        {
            var submission = submissions[state.PackageId];
            var decision = new RecipientDecision
            {
                Recipient = state.Partner,
                Outcome = Outcome.Permit.Text(),
                Agreement = state.Agreement,
                Reasons = state.ReasonsJson is null ? [] : ToexJson.Deserialize<List<Reason>>(state.ReasonsJson),
                Obligations = state.ObligationsJson is null ? [] : ToexJson.Deserialize<List<Obligation>>(state.ObligationsJson),
            };
            var approved = state.ReferralDecision == "approved";
            await releaser.ReleaseAsync(submission, decision, submission.PolicyVersion!, state,
                approved ? $"ig-officer {state.ReferralDecidedBy}" : "policy-decision", approved ? state.ReferralJustification : null, cancellationToken);
        }
        await releaser.CommitAsync(cancellationToken);
        scope.ServiceProvider.GetRequiredService<OutboxSignal>().Notify();
        logger.LogInformation("Released {Count} copies held while the audit ledger lagged", held.Count);
        return held.Count == Batch;
    }
}
