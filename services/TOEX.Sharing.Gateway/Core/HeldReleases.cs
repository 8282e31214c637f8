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
            var (authorisedBy, justification) = RecipientLife.Authority(state);
            await releaser.ReleaseAsync(submission, RecipientLife.PermitOf(state), submission.PolicyVersion!, state, authorisedBy, justification,
                cancellationToken);
        }
        await releaser.CommitAsync(cancellationToken);
        scope.ServiceProvider.GetRequiredService<OutboxSignal>().Notify();
        logger.LogInformation("Released {Count} copies held while the audit ledger lagged", held.Count);
        return held.Count == Batch;
    }
}
