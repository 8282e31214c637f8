using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using TOEX.Sharing.Audit.Data;
using TOEX.Sharing.Ledger;
using TOEX.Sharing.Sealing;

namespace TOEX.Sharing.Audit.Ledger;

/// <summary>Signs tree heads (ES256 over <see cref="SignedTreeHead.ToSignedBytes"/>) with the audit key ring's current key.</summary>
public sealed class TreeHeadSigner(LedgerTree tree, IKeyRing keys, TimeProvider time)
{
    /// <summary>The head of the tree at <paramref name="size"/> leaves (at most the current size), signed now.</summary>
    public SignedTreeHead Sign(long size)
    {
        var key = keys.Current;
        var head = SignedTreeHead.Create(size, tree.Tree.RootHash(size), time.GetUtcNow(), key.KeyId);
        return head with { Signature = key.SignData(head.ToSignedBytes()) };
    }

    /// <summary>
    /// Signs the current head and stores it, unless the tree is empty or the last stored head already has its size.
    /// Returns the head stored, or null.
    /// </summary>
    public async Task<SignedTreeHead?> PublishAsync(AuditDb db, CancellationToken cancellationToken)
    {
        await tree.CatchUpAsync(db, cancellationToken);
        var size = tree.Tree.Size;
        var last = await db.TreeHeads.OrderByDescending(h => h.Id).Select(h => (long?)h.TreeSize).FirstOrDefaultAsync(cancellationToken);
        if (size == 0 || last == size)
        {
            return null;
        }
        var head = Sign(size);
        db.TreeHeads.Add(new StoredTreeHead
        {
            TreeSize = head.TreeSize,
            RootHash = Convert.ToBase64String(head.RootHash),
            TimestampUnixMs = head.Timestamp.ToUnixTimeMilliseconds(),
            KeyId = head.KeyId,
            Signature = Convert.ToBase64String(head.Signature),
        });
        await db.SaveChangesAsync(cancellationToken);
        return head;
    }

    /// <summary>Every stored head, oldest first.</summary>
    public static async Task<List<SignedTreeHead>> StoredAsync(AuditDb db, CancellationToken cancellationToken) =>
        [.. (await db.TreeHeads.AsNoTracking().OrderBy(h => h.Id).ToListAsync(cancellationToken)).Select(h => new SignedTreeHead(
            h.TreeSize, Convert.FromBase64String(h.RootHash), DateTimeOffset.FromUnixTimeMilliseconds(h.TimestampUnixMs), h.KeyId,
            Convert.FromBase64String(h.Signature)))];
}

/// <summary>Every <see cref="AuditOptions.TreeHeadInterval"/>, signs and stores the current tree head if the tree has grown.</summary>
public sealed class TreeHeadPublisher(
    IServiceScopeFactory scopes, TreeHeadSigner signer, IOptions<AuditOptions> options, TimeProvider time, ILogger<TreeHeadPublisher> logger)
    : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(options.Value.TreeHeadInterval, time);
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            try
            {
                await using var scope = scopes.CreateAsyncScope();
                var head = await signer.PublishAsync(scope.ServiceProvider.GetRequiredService<AuditDb>(), stoppingToken);
                if (head is not null)
                {
                    logger.LogInformation("Signed tree head at size {TreeSize} with key {KeyId}", head.TreeSize, head.KeyId);
                }
            }
            catch (Exception e) when (!stoppingToken.IsCancellationRequested)
            {
                logger.LogError(e, "Could not sign the tree head; retrying at the next interval");
            }
        }
    }
}
