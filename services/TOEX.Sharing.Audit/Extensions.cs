using MassTransit;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using TOEX.Sharing.Audit.Consumers;
using TOEX.Sharing.Audit.Data;
using TOEX.Sharing.Audit.Ledger;
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
        // The audit service takes small bodies only (a justification of at most 4,000 characters).
        builder.AddToexLimits(MaxRequestBodyBytes);
        builder.Services.AddDbContext<AuditDb>(db => db.UseStore(options.Database, options.ConnectionString, "audit"));
        builder.Services.AddHealthChecks().AddCheck<LedgerHealthCheck>("ledger");
        builder.Services.AddSingleton<IKeyRing>(services => LocalKeyRing.OpenOrCreate(
            options.KeyRingPath ?? LocalPaths.KeyRing("audit"), services.GetRequiredService<TimeProvider>()));
        builder.Services.AddSingleton<LedgerTree>();
        builder.Services.AddSingleton<LedgerWriter>();
        builder.Services.AddSingleton<TreeHeadSigner>();
        builder.Services.AddHostedService<TreeHeadPublisher>();
        builder.Services.AddSingleton<DecisionReader>();
        builder.Services.AddSingleton(_ => SubjectBlindIndex.Open(
            options.BlindIndexKeyPath ?? LocalPaths.BlindIndexKey(), create: !builder.Environment.IsProduction()));

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
        await app.Services.GetRequiredService<LedgerTree>().CatchUpAsync(db, CancellationToken.None);
    }
}

internal sealed class LedgerHealthCheck(AuditDb db) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        await db.Database.CanConnectAsync(cancellationToken) ? HealthCheckResult.Healthy() : HealthCheckResult.Unhealthy("The ledger store is unreachable.");
}
