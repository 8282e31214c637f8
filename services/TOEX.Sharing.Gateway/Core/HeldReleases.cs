using Microsoft.EntityFrameworkCore;
using TOEX.Sharing.Contracts;
using TOEX.Sharing.Gateway.Data;
using TOEX.Sharing.Gateway.Release;
using TOEX.Sharing.ServiceDefaults;

namespace TOEX.Sharing.Gateway.Core;

/// <summary>
/// Releases what was held while the ledger lagged, once it has caught up: woken by each confirmation, and every
/// few seconds. Each held copy is made exactly as it would have been (on the decision's or the officer's authority);
/// the feed's unique item per recipient and package keeps a copy from being released twice.
/// </summary>
public sealed class HeldReleases(IServiceScopeFactory scopes, GatewayWriter writer, HeldReleasesSignal signal, ILogger<HeldReleases> logger)
    : BackgroundService
{
    /// <summary>Copies released per change of the writer: small, as they are sealed inside it.</summary>
    private const int Batch = 20;
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

    /// <summary>
    /// Releases up to one batch if the ledger has caught up; true when there may be more. The batch is one change of the
    /// gateway's writer, which reads the copies still held in its own transaction (a recall or another gateway may have
    /// settled some meanwhile) and releases them there. Rare (only after the ledger lagged), so the copies are sealed inside
    /// the change, a fresh releaser each time it is applied, and the batch is kept small so the writer is not held long.
    /// </summary>
    private async Task<bool> ReleaseBatchAsync(CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<GatewayDb>();
        if (!await db.Recipients.AnyAsync(r => r.DeliveryState == DeliveryState.Held, cancellationToken))
        {
            return false;
        }
        var lag = await scope.ServiceProvider.GetRequiredService<Releaser>().AuditLagAsync(cancellationToken);
        if (lag.Holding)
        {
            return false;
        }
        // Waited for to the end, stopping or not: the change uses this scope, which must outlive it.
        var (count, releaser) = await writer.WriteAsync(async (target, token) =>
        {
            var held = await target.Recipients.Where(r => r.DeliveryState == DeliveryState.Held)
                .OrderBy(r => r.PackageId).ThenBy(r => r.Position).Take(Batch).ToListAsync(token);
            var ids = held.Select(r => r.PackageId).Distinct().ToList();
            var submissions = await target.Submissions.Where(s => ids.Contains(s.Id)).ToDictionaryAsync(s => s.Id, token);
            var releaser = ActivatorUtilities.CreateInstance<Releaser>(scope.ServiceProvider);
            releaser.Assume(lag);
            foreach (var state in held)
            {
                var submission = submissions[state.PackageId];
                var (authorisedBy, justification) = RecipientLife.Authority(state);
                await releaser.ReleaseAsync(submission, RecipientLife.PermitOf(state), submission.PolicyVersion!, state, authorisedBy, justification,
                    token);
            }
            await releaser.WriteAsync(target, token);
            return (held.Count, releaser);
        }, CancellationToken.None);
        releaser.NotifyCommitted();
        if (count == 0)
        {
            return false;
        }
        logger.LogInformation("Released {Count} copies held while the audit ledger lagged", count);
        return count == Batch;
    }
}
