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

