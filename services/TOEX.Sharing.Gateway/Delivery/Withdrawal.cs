using Microsoft.EntityFrameworkCore;
using TOEX.Sharing.Gateway.Data;

namespace TOEX.Sharing.Gateway.Delivery;

/// <summary>Taking a recalled package back from a recipient that has not received it.</summary>
public static class Withdrawal
{
    /// <summary>Withdraws the recipient's feed item unless a read already returned it; true when withdrawn.</summary>
    public static async Task<bool> FromFeedAsync(GatewayDb db, Guid packageId, string partner, DateTimeOffset now,
        CancellationToken cancellationToken) =>
        await db.Feed
            .Where(f => f.Recipient == partner && f.PackageId == packageId && f.Kind == ItemKind.Package && f.DeliveredAt == null && f.WithdrawnAt == null)
            .ExecuteUpdateAsync(f => f.SetProperty(x => x.WithdrawnAt, now), cancellationToken) == 1;
}
