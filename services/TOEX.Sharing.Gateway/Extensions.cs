using MassTransit;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;
using TOEX.Sharing.Gateway.Consumers;
using TOEX.Sharing.Gateway.Core;
using TOEX.Sharing.Gateway.Data;
using TOEX.Sharing.Gateway.Delivery;
using TOEX.Sharing.Gateway.Release;
using TOEX.Sharing.KeyCustody;
using TOEX.Sharing.Policy;
using TOEX.Sharing.Sealing;
using TOEX.Sharing.ServiceDefaults;

namespace TOEX.Sharing.Gateway;

public static class Extensions
{
    public static WebApplicationBuilder AddGateway(this WebApplicationBuilder builder)
    {
        builder.Services.AddOptions<GatewayOptions>()
            .BindConfiguration(GatewayOptions.Section)
            .ValidateDataAnnotations()
            .Validate(o => Stores.IsKnown(o.Database), "Gateway:Database must be sqlite or postgresql.")
            .Validate(o => Stores.HasConnection(o.Database, o.ConnectionString), "Gateway:ConnectionString is required with Gateway:Database=postgresql.")
            .Validate(o => o.AuditResendInterval <= o.AuditResendMaxInterval, "Gateway:AuditResendInterval must not exceed Gateway:AuditResendMaxInterval.")
            .Validate(o => o.DecisionResendInterval <= o.DecisionResendMaxInterval, "Gateway:DecisionResendInterval must not exceed Gateway:DecisionResendMaxInterval.")
            .ValidateOnStart();
        var options = builder.Configuration.GetSection(GatewayOptions.Section).Get<GatewayOptions>() ?? new GatewayOptions();

        // Bodies over 1 MiB are refused by the server before they are buffered; per-client rate limits and timeouts.
        builder.AddToexLimits(Apis.JsonBody.MaxBytes);

        builder.AddToexAuthentication();
        builder.AddToexOpenApi("TOEX.Sharing gateway", "Submit intelligence packages, read their status, recall them, simulate decisions, "
            + "read and acknowledge a partner's feed, operate push delivery, list releases. See API.md.");

        builder.Services.AddDbContext<GatewayDb>(db => db.UseStore(options.Database, options.ConnectionString, "gateway").UseGatewayMigrations());
        builder.Services.AddHealthChecks().AddCheck<StoreHealthCheck>("store", tags: [ServiceDefaults.Extensions.ExplainTag])
            .AddCheck<AuditLedgerHealthCheck>("audit-ledger", tags: [ServiceDefaults.Extensions.ExplainTag]);

        builder.AddToexPolicySet(options.PoliciesPath ?? PolicyPaths.FindDefault());

        // The broker's keys, each from the custody its KeyCustody settings name (local files, a PKCS#11 module, a vault).
        builder.AddKeyCustody(KeyPurpose.PackageSigning, KeyPurpose.WebhookSigning, KeyPurpose.BlindIndex, KeyPurpose.DataAtRest);
        // Package bodies at rest: each under its own data key, wrapped by the DataAtRest custody key.
        builder.Services.AddSingleton(services => new PackageVault(services.GetRequiredService<KeyCustodies>()
            .Get(KeyPurpose.DataAtRest, options.DataAtRestKeyPath ?? LocalPaths.KeyRing("data-at-rest"))));
        builder.Services.AddSingleton(services => services.GetRequiredService<KeyCustodies>()
            .SigningRing(KeyPurpose.PackageSigning, options.KeyRingPath ?? LocalPaths.KeyRing("broker")));
        builder.Services.AddSingleton(services => new PackageSealer(services.GetRequiredService<IKeyRing>()));
        builder.Services.AddSingleton(services => services.GetRequiredService<KeyCustodies>().BlindIndex(
            options.BlindIndexKeyPath ?? LocalPaths.BlindIndexKey(), createLocal: !builder.Environment.IsProduction()));
        builder.Services.AddScoped<Apis.ConsultationLog>();
        builder.Services.AddSingleton<PartnerKeys>();
        builder.Services.AddSingleton<PartnerKeyRegistry>();
        builder.Services.AddSingleton<DecisionKeys>();
        builder.Services.AddSingleton<AuditKeys>();
        builder.Services.AddScoped<Releaser>();
        builder.Services.AddSingleton<GatewayWriter>();
        builder.Services.AddSingleton<OutboxSignal>();
        builder.Services.AddHostedService<OutboxRelay>();
        builder.Services.AddSingleton<AuditGate>();
        builder.Services.AddSingleton<HeldReleasesSignal>();
        builder.Services.AddHostedService<HeldReleases>();
        builder.Services.AddHostedService<AuditResender>();
        builder.Services.AddHostedService<DecisionResender>();
        builder.AddPushDelivery(options);
        builder.Services.AddOptions<ReferralPreviewOptions>().BindConfiguration(ReferralPreviewOptions.Section).ValidateDataAnnotations().ValidateOnStart();

        builder.AddToexMessaging("gateway", bus => bus.AddGatewayConsumers());
        return builder;
    }

    /// <summary>What the gateway consumes: decisions, referral decisions and the ledger's confirmations (the service and its tests register the same).</summary>
    public static IBusRegistrationConfigurator AddGatewayConsumers(this IBusRegistrationConfigurator bus)
    {
        bus.AddConsumer<SharingDecidedConsumer, SharingDecidedConsumerDefinition>();
        bus.AddConsumer<ReferralDecidedConsumer, ReferralDecidedConsumerDefinition>();
        bus.AddConsumer<AuditRecordedConsumer, AuditRecordedConsumerDefinition>();
        bus.AddConsumer<ReferralPreviewConsumer, ReferralPreviewConsumerDefinition>();
        return bus;
    }

    /// <summary>Push delivery: the partners' endpoints, the webhook signing key, the guarded client and the dispatcher.</summary>
    private static void AddPushDelivery(this WebApplicationBuilder builder, GatewayOptions gateway)
    {
        builder.Services.AddOptions<WebhookOptions>()
            .BindConfiguration(WebhookOptions.Section)
            .ValidateDataAnnotations()
            .ValidateOnStart();
        var options = builder.Configuration.GetSection(WebhookOptions.Section).Get<WebhookOptions>() ?? new WebhookOptions();
        builder.Services.AddSingleton(services => new WebhookSigningKey(services.GetRequiredService<KeyCustodies>()
            .SigningRing(KeyPurpose.WebhookSigning, options.KeyPath ?? LocalPaths.KeyRing("webhook"))));
        builder.Services.AddSingleton<WebhookEndpoints>();
        builder.Services.AddSingleton<IPushPartners>(services => services.GetRequiredService<WebhookEndpoints>());
        builder.Services.AddSingleton<RetrySchedule>();
        builder.Services.AddSingleton<WebhookSignal>();
        // No retry or resilience handler: the dispatcher's own schedule decides when to try again.
        // The client's own timeout is off: each attempt has its own (Gateway:Webhooks:AttemptTimeout).
        builder.Services.AddHttpClient(WebhookClient.HttpClientName, http => http.Timeout = Timeout.InfiniteTimeSpan)
            .ConfigurePrimaryHttpMessageHandler(WebhookClient.CreateHandler);
        builder.Services.AddSingleton(services => ActivatorUtilities.CreateInstance<WebhookClient>(services,
            services.GetRequiredService<IHttpClientFactory>().CreateClient(WebhookClient.HttpClientName)));
        builder.Services.AddHostedService<WebhookDispatcher>();
    }

    /// <summary>Creates the store's schema if it is new, upgrades it by its migrations otherwise.</summary>
    public static async Task InitialiseStoreAsync(this WebApplication app)
    {
        await using var scope = app.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<GatewayDb>();
        await GatewayStore.MigrateAsync(db, CancellationToken.None);
        await EncryptBodiesAtRestAsync(db, scope.ServiceProvider.GetRequiredService<PackageVault>());
    }

    /// <summary>
    /// A store written before package bodies were encrypted at rest holds them as JSON: encrypts each under its own
    /// data key (<see cref="PackageVault"/>), a batch per transaction, before the service takes any work.
    /// The one write of the gateway outside its writer (<see cref="GatewayWriter"/>): it runs once, at start, before anything
    /// is served or consumed, so nothing can race it.
    /// </summary>
    internal static async Task EncryptBodiesAtRestAsync(GatewayDb db, PackageVault vault)
    {
        while (true)
        {
            var clear = await db.Submissions.Where(s => EF.Functions.Like(s.PackageJson, "{%")).OrderBy(s => s.Id).Take(200).ToListAsync();
            if (clear.Count == 0)
            {
                return;
            }
            foreach (var submission in clear)
            {
                submission.PackageJson = vault.Protect(submission.Id, submission.PackageJson);
            }
            await db.SaveChangesAsync();
            db.ChangeTracker.Clear();
        }
    }
}

internal sealed class StoreHealthCheck(GatewayDb db) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        await db.Database.CanConnectAsync(cancellationToken) ? HealthCheckResult.Healthy() : HealthCheckResult.Unhealthy("The store is unreachable.");
}
