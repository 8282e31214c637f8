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
/// releases are held, not lost: the decision is stored, the copy is made only once the ledger has caught up. The hold
/// cannot wedge on an event the broker lost: <see cref="AuditResender"/> publishes an unconfirmed event again.
/// </summary>
public sealed class AuditGate(IOptions<GatewayOptions> options, TimeProvider time)
{
    public async Task<AuditLag> CheckAsync(GatewayDb db, CancellationToken cancellationToken)
    {
        var oldest = await db.Outbox.AsNoTracking().Where(o => o.ConfirmedAt == null).OrderBy(o => o.Sequence)
            .Select(o => new { o.CreatedAt, o.MessageType, o.MessageId, o.Attempts }).FirstOrDefaultAsync(cancellationToken);
        var limit = options.Value.AuditLagLimit;
        var lag = oldest is null ? TimeSpan.Zero : time.GetUtcNow() - oldest.CreatedAt;
        ServiceDefaults.ToexTelemetry.ReportAuditLag(lag);
        // The event is named by its type and message id (the ledger's key for it), never by what it is about.
        return oldest is null || lag <= limit
            ? new AuditLag(false, lag, oldest?.CreatedAt, null)
            : new AuditLag(true, lag, oldest.CreatedAt,
                string.Create(CultureInfo.InvariantCulture, $"Releases are held: the audit ledger has not confirmed the gateway's events since {oldest.CreatedAt:O} ({Describe(lag)}; the limit is {Describe(limit)}). ")
                + string.Create(CultureInfo.InvariantCulture, $"The oldest unconfirmed is {oldest.MessageType} {oldest.MessageId}, published {oldest.Attempts} time(s) so far; it is published again until the ledger confirms it. ")
                + "Held copies are released automatically once it catches up.");
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

/// <summary>
/// The audit worker has events of the gateway in its ledger (one message per group commit of the ledger): marks them
/// confirmed in one statement, committed by the gateway's writer with whatever else it has, and wakes held releases.
/// </summary>
public sealed class AuditRecordedConsumer(GatewayWriter writer, HeldReleasesSignal held) : IConsumer<AuditRecorded>
{
    public async Task Consume(ConsumeContext<AuditRecorded> context)
    {
        var message = context.Message;
        var ids = message.Confirmed().Distinct().ToList();
        if (ids.Count == 0)
        {
            return;
        }
        var at = message.RecordedAt.ToUniversalTime();
        // Through the gateway's writer: the confirmations of many messages commit together.
        var confirmed = await writer.WriteAsync((db, token) => db.Outbox.Where(o => ids.Contains(o.MessageId) && o.ConfirmedAt == null)
            .ExecuteUpdateAsync(set => set.SetProperty(o => o.ConfirmedAt, at), token), context.CancellationToken);
        if (confirmed > 0)
        {
            held.Notify();
        }
    }
}

public sealed class AuditRecordedConsumerDefinition : DurableConsumerDefinition<AuditRecordedConsumer>;

/// <summary>
/// No wedge: an event published but not confirmed by the audit ledger within <see cref="GatewayOptions.AuditResendInterval"/>
/// (the broker lost it: a queue purged, a node replaced) is handed back to the outbox relay, which publishes it again with
/// its stored message id; the ledger records an event once by that id and confirms it again. Each re-send of one event
/// waits twice as long as the one before, up to <see cref="GatewayOptions.AuditResendMaxInterval"/>, so a ledger that is
/// merely slow or down is not flooded. Fail closed is unchanged: the hold still counts from the event's creation.
/// </summary>
public sealed class AuditResender(IServiceScopeFactory scopes, GatewayWriter writer, OutboxSignal outbox, IOptions<GatewayOptions> options, TimeProvider time,
    ILogger<AuditResender> logger) : ResendLoop(time, logger)
{
    private const int Page = 1000;

    protected override TimeSpan Interval => options.Value.AuditResendInterval;

    protected override string RoundFailed => "Unconfirmed events could not be handed back to the outbox; will retry";

    protected override async Task RoundAsync(CancellationToken cancellationToken)
    {
        if (await ResendDueAsync(cancellationToken) > 0)
        {
            outbox.Notify();
        }
    }

    /// <summary>Marks unsent again every published, unconfirmed event whose wait is over; returns how many.</summary>
    internal async Task<int> ResendDueAsync(CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<GatewayDb>();
        var now = Time.GetUtcNow();
        var (interval, max) = (options.Value.AuditResendInterval, options.Value.AuditResendMaxInterval);
        var due = new List<long>();
        (string Type, Guid Id, DateTimeOffset Since, int Attempts)? oldest = null;
        var after = long.MinValue;
        while (true)
        {
            // Read by pages in the order they were queued (the unconfirmed are few unless the ledger is down).
            var page = await db.Outbox.AsNoTracking().Where(o => o.ConfirmedAt == null && o.Sequence > after).OrderBy(o => o.Sequence)
                .Select(o => new { o.Sequence, o.SentAt, o.Attempts, o.MessageType, o.MessageId, o.CreatedAt }).Take(Page).ToListAsync(cancellationToken);
            foreach (var row in page)
            {
                if (row.SentAt is { } sent && now - sent >= Backoff(row.Attempts, interval, max))
                {
                    due.Add(row.Sequence);
                    oldest ??= (row.MessageType, row.MessageId, row.CreatedAt, row.Attempts);
                }
            }
            if (page.Count < Page)
            {
                break;
            }
            after = page[^1].Sequence;
        }
        // Handed back by the gateway's writer, in one change (checked again there: still unconfirmed and sent).
        var handedBack = due.Count == 0 ? 0 : await writer.WriteAsync(async (target, token) =>
        {
            var count = 0;
            foreach (var chunk in due.Chunk(500))
            {
                count += await target.Outbox.Where(o => chunk.Contains(o.Sequence) && o.ConfirmedAt == null && o.SentAt != null)
                    .ExecuteUpdateAsync(set => set.SetProperty(o => o.SentAt, (DateTimeOffset?)null), token);
            }
            return count;
        }, cancellationToken);
        if (handedBack > 0 && oldest is { } first)
        {
            logger.LogWarning("Publishing {Count} events again that the audit ledger has not confirmed; the oldest is {MessageType} {MessageId} "
                + "of {CreatedAt:O}, published {Attempts} time(s) so far", handedBack, first.Type, first.Id, first.Since, first.Attempts);
        }
        return handedBack;
    }
}
