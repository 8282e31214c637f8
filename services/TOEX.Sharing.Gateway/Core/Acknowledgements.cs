using Microsoft.EntityFrameworkCore;
using TOEX.Sharing.Contracts;
using TOEX.Sharing.Gateway.Data;
using TOEX.Sharing.Gateway.Release;
using TOEX.Sharing.ServiceDefaults;

namespace TOEX.Sharing.Gateway.Core;

/// <summary>A recipient's acknowledgements (of a package or a recall notice), and those that fall overdue.</summary>
public static class Acknowledgements
{
    /// <summary>
    /// Records the recipient's acknowledgement of its item (once: the first is the one on record) and the event
    /// saying so; false when the recipient has no such item. Saved with the caller's changes.
    /// </summary>
    public static async Task<bool> RecordAsync(GatewayDb db, Guid packageId, string recipient, ItemKind kind, string acknowledgedBy,
        string channel, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var item = await db.Feed.SingleOrDefaultAsync(
            f => f.Recipient == recipient && f.PackageId == packageId && f.Kind == kind && f.WithdrawnAt == null, cancellationToken);
        if (item is null)
        {
            return false;
        }
        if (item.AcknowledgedAt is not null)
        {
            return true;
        }
        item.AcknowledgedAt = now;
        item.AcknowledgedBy = acknowledgedBy;
        ServiceDefaults.ToexTelemetry.Deliveries.Add(1, new("channel", channel), new("event", "ack"), new("kind", kind.Text()));
        item.DeliveredAt ??= now;
        var state = await db.Recipients.SingleOrDefaultAsync(r => r.PackageId == packageId && r.Partner == recipient, cancellationToken);
        if (state is not null)
        {
            RecipientLife.Acknowledged(state, kind, now);
        }
        db.Enqueue(new PackageAcknowledged
        {
            PackageId = packageId,
            Recipient = recipient,
            Kind = kind.Text(),
            AcknowledgedBy = acknowledgedBy,
            Channel = channel,
            At = now,
        }, DerivedId.From(packageId, $"acknowledged/{recipient}/{kind.Text()}"), now);
        return true;
    }

    /// <summary>Marks overdue, once, each unacknowledged package past its deadline and raises the event; returns how many.</summary>
    public static async Task<int> MarkOverdueAsync(GatewayDb db, DateTimeOffset now, ILogger logger, CancellationToken cancellationToken)
    {
        var nowMs = now.ToUnixTimeMilliseconds();
        var overdue = await db.Recipients
            .Where(r => r.AcknowledgementDueAtUnixMs != null && r.AcknowledgementDueAtUnixMs <= nowMs && r.AcknowledgedAt == null
                && r.OverdueAt == null && r.RecallAction == null)
            .OrderBy(r => r.AcknowledgementDueAtUnixMs)
            .Take(100)
            .ToListAsync(cancellationToken);
        if (overdue.Count == 0)
        {
            return 0;
        }
        var ids = overdue.Select(r => r.PackageId).Distinct().ToList();
        var originators = await db.Submissions.Where(s => ids.Contains(s.Id)).ToDictionaryAsync(s => s.Id, s => s.Originator, cancellationToken);
        foreach (var state in overdue)
        {
            RecipientLife.Overdue(state, now);
            db.Enqueue(new AcknowledgementOverdue
            {
                PackageId = state.PackageId,
                Originator = originators[state.PackageId],
                Recipient = state.Partner,
                ReleasedAt = state.ReleasedAt ?? now,
                DueAt = DateTimeOffset.FromUnixTimeMilliseconds(state.AcknowledgementDueAtUnixMs!.Value),
                At = now,
            }, DerivedId.From(state.PackageId, $"acknowledgement-overdue/{state.Partner}"), now);
            logger.LogWarning("Package {PackageId}: {Recipient} has not acknowledged it by its deadline", state.PackageId, state.Partner);
        }
        await db.SaveChangesAsync(cancellationToken);
        return overdue.Count;
    }

    /// <summary>When the next acknowledgement falls due, if any is awaited.</summary>
    public static async Task<long?> NextDueAsync(GatewayDb db, CancellationToken cancellationToken) =>
        await db.Recipients
            .Where(r => r.AcknowledgementDueAtUnixMs != null && r.AcknowledgedAt == null && r.OverdueAt == null && r.RecallAction == null)
            .MinAsync(r => r.AcknowledgementDueAtUnixMs, cancellationToken);
}
