using MassTransit;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using TOEX.Sharing.Audit.Agreements;
using TOEX.Sharing.Audit.Console;
using TOEX.Sharing.Contracts;
using TOEX.Sharing.Audit.Consumers;
using TOEX.Sharing.Audit.Data;
using TOEX.Sharing.Audit.Ledger;
using TOEX.Sharing.KeyCustody;
using TOEX.Sharing.Policy;
using TOEX.Sharing.Sealing;
using TOEX.Sharing.ServiceDefaults;

namespace TOEX.Sharing.Audit;

public static class Extensions
{
    public const long MaxRequestBodyBytes = 64 * 1024;

    public static WebApplicationBuilder AddAudit(this WebApplicationBuilder builder)
    {
        builder.Services.AddOptions<AuditOptions>().BindConfiguration(AuditOptions.Section)
            .Validate(o => o.TreeHeadInterval > TimeSpan.Zero, "Audit:TreeHeadInterval must be a positive time span, e.g. 00:05:00.")
            .Validate(o => Stores.IsKnown(o.Database), "Audit:Database must be sqlite or postgresql.")
            .Validate(o => Stores.HasConnection(o.Database, o.ConnectionString), "Audit:ConnectionString is required with Audit:Database=postgresql.")
            .ValidateOnStart();
        var options = builder.Configuration.GetSection(AuditOptions.Section).Get<AuditOptions>() ?? new AuditOptions();

        builder.AddToexAuthentication();
        builder.AddToexOpenApi("TOEX.Sharing audit service", "Search the audit ledger (entries, subjects, CSV), tree heads, "
            + "inclusion and consistency proofs, evidence export, referral approvals. See API.md.");
        // The audit service takes small bodies only (a justification of at most 4,000 characters).
        builder.AddToexLimits(MaxRequestBodyBytes);
        builder.Services.AddDbContext<AuditDb>(db => db.UseStore(options.Database, options.ConnectionString, "audit"));
        builder.Services.AddHealthChecks().AddCheck<LedgerHealthCheck>("ledger", tags: [ServiceDefaults.Extensions.ExplainTag]);
        // The audit service's signing keys (tree heads, referral decisions), from the custody the KeyCustody settings name
        // (local files, a PKCS#11 module, a vault). The gateway verifies IG officers' referral decisions with their public
        // half (Gateway:AuditJwksPath), written at start and after every rotation.
        builder.AddKeyCustody(KeyPurpose.TreeHeadSigning, KeyPurpose.BlindIndex);
        builder.Services.AddSingleton<IKeyRing>(services => new PublishedKeyRing(services.GetRequiredService<KeyCustodies>()
                .SigningRing(KeyPurpose.TreeHeadSigning, options.KeyRingPath ?? LocalPaths.KeyRing("audit")),
            options.PublicJwksPath ?? Path.Combine(LocalPaths.Root(), "keys", "audit.jwks.json")));
        builder.Services.AddScoped<Referrals.ReferralDecisions>();
        builder.Services.AddSingleton<LedgerTree>();
        builder.Services.AddSingleton<LedgerWriter>();
        builder.Services.AddSingleton<TreeHeadSigner>();
        builder.Services.AddHostedService<TreeHeadPublisher>();
        builder.Services.AddSingleton<DecisionReader>();
        builder.Services.AddSingleton(services => services.GetRequiredService<KeyCustodies>().BlindIndex(
            options.BlindIndexKeyPath ?? LocalPaths.BlindIndexKey(), createLocal: !builder.Environment.IsProduction()));
        // The policy set (the agreement register): loaded at start, a broken one stops the service, and reloaded when it changes.
        builder.AddToexPolicySet(options.PoliciesPath ?? PolicyPaths.FindDefault());
        builder.Services.AddScoped<AgreementRegister>();

        builder.Services.AddConsumeObserver<LedgerLagObserver>();
        builder.AddToexMessaging("audit", bus => bus.AddAuditConsumers());
        return builder;
    }

    /// <summary>Every event the ledger records, each on its own durable endpoint (the service and its tests register the same).</summary>
    public static IBusRegistrationConfigurator AddAuditConsumers(this IBusRegistrationConfigurator bus)
    {
        bus.AddConsumer<PackageSubmittedAuditConsumer, AuditConsumerDefinition<PackageSubmittedAuditConsumer>>();
        bus.AddConsumer<SharingDecidedAuditConsumer, AuditConsumerDefinition<SharingDecidedAuditConsumer>>();
        bus.AddConsumer<PackageReleasedAuditConsumer, AuditConsumerDefinition<PackageReleasedAuditConsumer>>();
        bus.AddConsumer<DecisionRejectedAuditConsumer, AuditConsumerDefinition<DecisionRejectedAuditConsumer>>();
        bus.AddConsumer<ReferralDecidedAuditConsumer, AuditConsumerDefinition<ReferralDecidedAuditConsumer>>();
        bus.AddConsumer<ConsultationRecordedAuditConsumer, AuditConsumerDefinition<ConsultationRecordedAuditConsumer>>();
        bus.AddConsumer<WebhookAttemptFailedAuditConsumer, AuditConsumerDefinition<WebhookAttemptFailedAuditConsumer>>();
        bus.AddConsumer<WebhookDeliveredAuditConsumer, AuditConsumerDefinition<WebhookDeliveredAuditConsumer>>();
        bus.AddConsumer<WebhookDeadLetteredAuditConsumer, AuditConsumerDefinition<WebhookDeadLetteredAuditConsumer>>();
        bus.AddConsumer<WebhookEndpointDisabledAuditConsumer, AuditConsumerDefinition<WebhookEndpointDisabledAuditConsumer>>();
        bus.AddConsumer<WebhookRetryRequestedAuditConsumer, AuditConsumerDefinition<WebhookRetryRequestedAuditConsumer>>();
        bus.AddConsumer<PackageAcknowledgedAuditConsumer, AuditConsumerDefinition<PackageAcknowledgedAuditConsumer>>();
        bus.AddConsumer<AcknowledgementOverdueAuditConsumer, AuditConsumerDefinition<AcknowledgementOverdueAuditConsumer>>();
        bus.AddConsumer<PackageRecalledAuditConsumer, AuditConsumerDefinition<PackageRecalledAuditConsumer>>();
        bus.AddConsumer<ReleaseFailedAuditConsumer, AuditConsumerDefinition<ReleaseFailedAuditConsumer>>();
        bus.AddConsumer<PartnerKeyRegisteredAuditConsumer, AuditConsumerDefinition<PartnerKeyRegisteredAuditConsumer>>();
        bus.AddConsumer<PartnerKeyRevokedAuditConsumer, AuditConsumerDefinition<PartnerKeyRevokedAuditConsumer>>();
        bus.AddConsumer<GatewayEventBatchAuditConsumer, AuditConsumerDefinition<GatewayEventBatchAuditConsumer>>();
        // Not a consumer: the console asks the gateway for a referral's preview (request/response, sealed for this service).
        bus.AddRequestClient<ReferralPreviewRequested>(new Uri($"exchange:{ReferralPreviews.GatewayQueue}"), RequestTimeout.After(s: 15));
        return bus;
    }

    public static async Task InitialiseStoreAsync(this WebApplication app)
    {
        await using var scope = app.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<AuditDb>();
        await Stores.EnsureCreatedAsync(db, CancellationToken.None);
        if (db.Database.IsSqlite())
        {
            // EnsureCreated leaves a store made before tree heads were kept as it was: add their table.
            await db.Database.ExecuteSqlRawAsync("""
                CREATE TABLE IF NOT EXISTS "TreeHeads" (
                    "Id" INTEGER NOT NULL CONSTRAINT "PK_TreeHeads" PRIMARY KEY AUTOINCREMENT,
                    "TreeSize" INTEGER NOT NULL, "RootHash" TEXT NOT NULL, "TimestampUnixMs" INTEGER NOT NULL,
                    "KeyId" TEXT NOT NULL, "Signature" TEXT NOT NULL);
                CREATE INDEX IF NOT EXISTS "IX_TreeHeads_TreeSize" ON "TreeHeads" ("TreeSize");
                CREATE TABLE IF NOT EXISTS "Referrals" (
                    "Id" TEXT NOT NULL CONSTRAINT "PK_Referrals" PRIMARY KEY, "PackageId" TEXT NOT NULL,
                    "Recipient" TEXT NOT NULL, "Agreement" TEXT NULL, "ReasonsJson" TEXT NOT NULL, "ObligationsJson" TEXT NOT NULL,
                    "ReferredAtUnixMs" INTEGER NOT NULL, "Decision" TEXT NULL, "DecidedBy" TEXT NULL, "Justification" TEXT NULL,
                    "DecidedAtUnixMs" INTEGER NULL);
                CREATE INDEX IF NOT EXISTS "IX_Referrals_PackageId" ON "Referrals" ("PackageId");
                CREATE TABLE IF NOT EXISTS "SubjectIndexes" (
                    "BlindIndex" TEXT NOT NULL, "PackageId" TEXT NOT NULL,
                    CONSTRAINT "PK_SubjectIndexes" PRIMARY KEY ("BlindIndex", "PackageId"));
                CREATE INDEX IF NOT EXISTS "IX_SubjectIndexes_PackageId" ON "SubjectIndexes" ("PackageId");
                """);
        }
        await AddEventDigestsAndDeliveredCopiesAsync(db);
        await EntryReferences.AddColumnAsync(db, CancellationToken.None);
        await db.Database.ExecuteSqlRawAsync(AuditDb.AddSubmissionsByOriginator);
        await app.Services.GetRequiredService<LedgerTree>().CatchUpAsync(db, CancellationToken.None);
        // The key ring is opened (and its public half written for the gateway) at start, not at the first signature.
        _ = app.Services.GetRequiredService<IKeyRing>();
    }

    /// <summary>
    /// A store made before the ledger kept each event's content digest and the copies recipients received: adds the
    /// column (empty for the entries before it: a redelivery of those is still recognised by its key) and the table,
    /// filled from the delivery entries already in the ledger.
    /// </summary>
    private static async Task AddEventDigestsAndDeliveredCopiesAsync(AuditDb db)
    {
        if (db.Database.IsSqlite())
        {
            var columns = await db.Database.SqlQueryRaw<string>("""SELECT name AS "Value" FROM pragma_table_info('Entries')""").ToListAsync();
            if (!columns.Contains("EventDigest"))
            {
                await db.Database.ExecuteSqlRawAsync("""ALTER TABLE "Entries" ADD COLUMN "EventDigest" TEXT NULL;""");
            }
            await db.Database.ExecuteSqlRawAsync("""
                CREATE TABLE IF NOT EXISTS "DeliveredCopies" (
                    "PackageId" TEXT NOT NULL, "Partner" TEXT NOT NULL, "DeliveredAtUnixMs" INTEGER NOT NULL,
                    CONSTRAINT "PK_DeliveredCopies" PRIMARY KEY ("PackageId", "Partner"));
                CREATE INDEX IF NOT EXISTS "IX_DeliveredCopies_Partner" ON "DeliveredCopies" ("Partner");
                """);
        }
        else
        {
            await db.Database.ExecuteSqlRawAsync("""
                ALTER TABLE "Entries" ADD COLUMN IF NOT EXISTS "EventDigest" text NULL;
                CREATE TABLE IF NOT EXISTS "DeliveredCopies" (
                    "PackageId" uuid NOT NULL, "Partner" text NOT NULL, "DeliveredAtUnixMs" bigint NOT NULL,
                    CONSTRAINT "PK_DeliveredCopies" PRIMARY KEY ("PackageId", "Partner"));
                CREATE INDEX IF NOT EXISTS "IX_DeliveredCopies_Partner" ON "DeliveredCopies" ("Partner");
                """);
        }
        if (!await db.DeliveredCopies.AnyAsync())
        {
            // Copies received before the table existed: pushes accepted, acknowledgements, feed reads of packages.
            var received = await db.Entries.AsNoTracking()
                .Where(e => e.PackageId != null && e.Partner != null && (e.Type == "webhook-delivered" || e.Type == "acknowledgement" || e.Type == "consultation"))
                .Select(e => new { e.PackageId, e.Partner, e.Type, e.Canonical, e.AtUnixMs })
                .ToListAsync();
            foreach (var copy in received
                .Where(e => e.Type == "acknowledgement" || System.Text.Json.Nodes.JsonNode.Parse(e.Canonical)?["detail"] is { } detail
                    && (e.Type == "webhook-delivered" ? (string?)detail["kind"] == "package" : (string?)detail["kind"] == "feed-read" && (string?)detail["itemKind"] == "package"))
                .DistinctBy(e => (e.PackageId, e.Partner)))
            {
                db.DeliveredCopies.Add(new DeliveredCopy { PackageId = copy.PackageId!.Value, Partner = copy.Partner!, DeliveredAtUnixMs = copy.AtUnixMs });
            }
            await db.SaveChangesAsync();
        }
    }
}

internal sealed class LedgerHealthCheck(AuditDb db) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        await db.Database.CanConnectAsync(cancellationToken) ? HealthCheckResult.Healthy() : HealthCheckResult.Unhealthy("The ledger store is unreachable.");
}
