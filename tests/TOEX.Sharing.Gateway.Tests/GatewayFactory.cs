using System.Net.Http.Headers;
using MassTransit;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using TOEX.Sharing.Contracts;
using TOEX.Sharing.Gateway.Consumers;
using TOEX.Sharing.Policy;
using TOEX.Sharing.Sealing;
using TOEX.Sharing.Testing;

namespace TOEX.Sharing.Gateway.Tests;

/// <summary>
/// The gateway in process with its own temporary store (SQLite or PostgreSQL), keys and development issuer.
/// With <paramref name="rabbitMqUrl"/> null the bus is MassTransit's test harness; otherwise that broker.
/// </summary>
public sealed class GatewayFactory(string? rabbitMqUrl = null, TimeSpan? publishTimeout = null, StoreKind store = StoreKind.Sqlite)
    : WebApplicationFactory<Program>
{
    public string Root { get; } = Directory.CreateTempSubdirectory("toex-gateway-").FullName;

    /// <summary>The gateway's store.</summary>
    public TestStore Store => _store ??= TestStore.Create(store, Root, "gateway");

    private TestStore? _store;

    public string DevIssuerDirectory => Path.Combine(Root, "dev-issuer");
    public string PartnerKeysDirectory => Path.Combine(Root, "partners");
    public string DecisionKeyRingDirectory => Path.Combine(Root, "policy-decision");
    public string DecisionJwksPath => Path.Combine(Root, "policy-decision.jwks.json");
    public string BlindIndexKeyPath => Path.Combine(Root, "blind-index.key");
    public string AuditJwksPath => Path.Combine(Root, "audit.jwks.json");

    /// <summary>The ledger's custodian in these tests (<c>Audit:Custodians</c>): lists every release.</summary>
    public const string Custodian = "rocu-wm";

    /// <summary>The broker's operator organisation in these tests (<c>Operations:Organisations</c>): keeps <c>Deliveries.Operate</c>.</summary>
    public const string Operator = "toex-operations";

    /// <summary>The hosting environment (set before the first client is created).</summary>
    public string Environment { get; set; } = "Development";

    /// <summary>The service's clock, when a test moves it (set before the first client is created).</summary>
    public TimeProvider? Time { get; set; }

    /// <summary>More configuration, applied last (set before the first client is created).</summary>
    public Dictionary<string, string?> Settings { get; } = [];

    /// <summary>More configuration of the test harness's in-memory bus (e.g. a publish filter), when the bus is the harness.</summary>
    public Action<IBusRegistrationContext, IInMemoryBusFactoryConfigurator>? ConfigureBus { get; set; }

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseEnvironment(Environment);
        builder.UseSetting("Authentication:DevIssuer:Directory", DevIssuerDirectory);
        builder.UseSetting("Gateway:KeyRingPath", Path.Combine(Root, "broker"));
        builder.UseSetting("Gateway:DataAtRestKeyPath", Path.Combine(Root, "data-at-rest"));
        builder.UseSetting("Gateway:PartnerKeysPath", PartnerKeysDirectory);
        builder.UseSetting("Gateway:DecisionJwksPath", DecisionJwksPath);
        builder.UseSetting("Gateway:AuditJwksPath", AuditJwksPath);
        builder.UseSetting("Gateway:Database", Store.Database);
        builder.UseSetting("Gateway:ConnectionString", Store.ConnectionString);
        builder.UseSetting("Gateway:PoliciesPath", RepoPaths.Policies);
        builder.UseSetting("Gateway:Webhooks:KeyPath", Path.Combine(Root, "webhook"));
        builder.UseSetting("Gateway:PublishTimeout", (publishTimeout ?? TimeSpan.FromSeconds(10)).ToString());
        builder.UseSetting("RabbitMq:Url", rabbitMqUrl ?? "amqp://unused:unused@127.0.0.1:1/");
        builder.UseSetting("Gateway:BlindIndexKeyPath", BlindIndexKeyPath);
        builder.UseSetting("Audit:Custodians:0", Custodian);
        builder.UseSetting("Operations:Organisations:0", Operator);
        foreach (var (key, value) in Settings)
        {
            builder.UseSetting(key, value);
        }
        if (Time is { } time)
        {
            builder.ConfigureTestServices(services => services.AddSingleton(time));
        }
        if (rabbitMqUrl is null)
        {
            builder.ConfigureTestServices(services =>
            {
                services.AddSingleton<Consumptions>();
                services.AddConsumeObserver(provider => provider.GetRequiredService<Consumptions>());
                // The host's start waits for the in-memory bus to have started: a test that ends at once would otherwise stop
                // the bus while its endpoints are still starting, which MassTransit 8.5 answers with a NullReferenceException
                // from ReceiveEndpoint.Stop (seen in ReferralTests' disposal).
                services.AddOptions<MassTransitHostOptions>().PostConfigure(o => o.WaitUntilStarted = true);
                services.AddMassTransitTestHarness(bus =>
                {
                    bus.SetTestTimeouts(testTimeout: TimeSpan.FromSeconds(60), testInactivityTimeout: TimeSpan.FromSeconds(10));
                    bus.AddGatewayConsumers();
                    if (ConfigureBus is { } configure)
                    {
                        bus.UsingInMemory((context, cfg) =>
                        {
                            configure(context, cfg);
                            cfg.ConfigureEndpoints(context);
                        });
                    }
                });
            });
        }
    }

    /// <summary>A client carrying a development-issuer token for <paramref name="organisation"/> with <paramref name="roles"/>.</summary>
    public HttpClient ClientFor(string organisation, params string[] roles) => ClientAs(organisation, $"{organisation}-tester", roles);

    /// <summary>A client for a named person (<paramref name="subject"/>) of <paramref name="organisation"/>.</summary>
    public HttpClient ClientAs(string organisation, string subject, params string[] roles)
    {
        var client = CreateClient();
        using var issuer = DevIssuer.OpenOrCreate(DevIssuerDirectory, TimeProvider.System);
        var token = issuer.CreateToken(organisation, roles, subject, TimeSpan.FromMinutes(10));
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return client;
    }

    /// <summary>Generates a partner's key pair into the registry; returns the private JWK.</summary>
    public string RegisterPartnerKey(string partner, KeyKind kind = KeyKind.EC)
    {
        var key = KeyFiles.Generate(PartnerKeysDirectory, kind, KeyUse.Encryption, partner);
        return KeyFiles.ReadPrivateJwk(key.PrivateJwkPath);
    }

    /// <summary>A new key pair for a partner, outside the registry: its public JWK (to register) and its private JWK.</summary>
    public (JsonObject PublicJwk, string PrivateJwk) NewPartnerKey(string partner, KeyKind kind = KeyKind.EC)
    {
        var key = KeyFiles.Generate(Path.Combine(Root, "new-keys", Guid.NewGuid().ToString("N")), kind, KeyUse.Encryption, partner);
        var jwks = JsonNode.Parse(File.ReadAllText(key.PublicJwksPath))!;
        return (jwks["keys"]![0]!.DeepClone().AsObject(), KeyFiles.ReadPrivateJwk(key.PrivateJwkPath));
    }

    /// <summary>Registers a push partner's endpoint in the partner registry (as a local development endpoint unless told otherwise).</summary>
    public void RegisterWebhook(string partner, Uri endpoint, bool localDevelopment = true)
    {
        Directory.CreateDirectory(PartnerKeysDirectory);
        File.WriteAllText(Path.Combine(PartnerKeysDirectory, partner + ".webhook.json"),
            new JsonObject { ["endpoint"] = endpoint.ToString(), ["localDevelopment"] = localDevelopment }.ToJsonString());
    }

    /// <summary>The instant decisions are taken at in these tests.</summary>
    public static readonly DateTimeOffset At = DateTimeOffset.Parse("2026-11-25T12:00:00Z", System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>A key ring standing in for PolicyDecision's, whose public JWKS the gateway trusts.</summary>
    public LocalKeyRing TrustDecisionKeys()
    {
        var keys = LocalKeyRing.OpenOrCreate(DecisionKeyRingDirectory, TimeProvider.System);
        File.WriteAllText(DecisionJwksPath, keys.PublicJwks());
        return keys;
    }

    /// <summary>A key ring standing in for the audit service's, whose public JWKS the gateway trusts for referral decisions.</summary>
    public LocalKeyRing TrustAuditKeys()
    {
        var keys = LocalKeyRing.OpenOrCreate(Path.Combine(Root, "audit-keys"), TimeProvider.System);
        File.WriteAllText(AuditJwksPath, keys.PublicJwks());
        return keys;
    }

    /// <summary>The person a development-issuer token for <paramref name="subject"/> stands for.</summary>
    public static string PersonOf(string subject) => $"{DevIssuer.Issuer}|{subject}";

    /// <summary>Submits as <paramref name="subject"/> of rocu-wm; returns the id and the facts the gateway published.</summary>
    public async Task<(Guid Id, PackageSubmitted Submitted)> SubmitAsync(JsonObject package, string subject = "rocu-wm-tester")
    {
        var response = await ClientAs("rocu-wm", subject, "Packages.Submit").PostAsync("/api/v1/packages", Packages.Json(package));
        Assert.Equal(System.Net.HttpStatusCode.Accepted, response.StatusCode);
        var id = Guid.Parse((string)(await response.Content.ReadFromJsonAsync<JsonObject>())!["id"]!);
        var harness = Services.GetRequiredService<MassTransit.Testing.ITestHarness>();
        Assert.True(await harness.Published.Any<PackageSubmitted>(m => m.Context.Message.PackageId == id));
        // First, not Single: enumerating a harness list to its end waits for the harness to go idle.
        return (id, harness.Published.Select<PackageSubmitted>(m => m.Context.Message.PackageId == id).First().Context.Message);
    }

    /// <summary>What PolicyDecision would decide for <paramref name="submitted"/> at <see cref="At"/> under the shipped policies.</summary>
    public static SignedDecision Decide(PackageSubmitted submitted)
    {
        var document = new PolicyEngine(PolicySet.Load(RepoPaths.Policies)).Decide(submitted.Facts, At);
        return new SignedDecision
        {
            PackageId = submitted.PackageId,
            ContentHash = submitted.ContentHash,
            DecidedAt = At,
            PolicyVersion = document.PolicyVersion,
            Decisions = document.Decisions,
        };
    }

    /// <summary>Publishes on the harness bus and returns once the message has been consumed without a fault.</summary>
    public async Task DeliverAsync<T>(T message) where T : class
    {
        var harness = Services.GetRequiredService<MassTransit.Testing.ITestHarness>();
        var messageId = NewId.NextGuid();
        var consumed = Services.GetRequiredService<Consumptions>().WaitAsync(messageId, "1", TimeSpan.FromSeconds(60));
        await harness.Bus.Publish(message, context =>
        {
            context.MessageId = messageId;
            context.Headers.Set(Consumptions.DeliveryHeader, "1");
        });
        await consumed;
    }

    /// <summary>
    /// Publishes delivery <paramref name="delivery"/> of message <paramref name="messageId"/> on the harness bus and
    /// returns the first fault of its consumption (it is retried meanwhile by the consumer's definition).
    /// </summary>
    public async Task<Exception> DeliverFaultingAsync<T>(T message, Guid messageId, string delivery) where T : class
    {
        var harness = Services.GetRequiredService<MassTransit.Testing.ITestHarness>();
        var faulted = Services.GetRequiredService<Consumptions>().WaitFaultAsync(messageId, delivery, TimeSpan.FromSeconds(60));
        await harness.Bus.Publish(message, context =>
        {
            context.MessageId = messageId;
            context.Headers.Set(Consumptions.DeliveryHeader, delivery);
        });
        return await faulted;
    }

    /// <summary>Publishes delivery <paramref name="delivery"/> of message <paramref name="messageId"/> and returns once it was consumed without a fault.</summary>
    public async Task DeliverAsync<T>(T message, Guid messageId, string delivery) where T : class
    {
        var harness = Services.GetRequiredService<MassTransit.Testing.ITestHarness>();
        var consumed = Services.GetRequiredService<Consumptions>().WaitAsync(messageId, delivery, TimeSpan.FromSeconds(60));
        await harness.Bus.Publish(message, context =>
        {
            context.MessageId = messageId;
            context.Headers.Set(Consumptions.DeliveryHeader, delivery);
        });
        await consumed;
    }

    protected override void Dispose(bool disposing)
    {
        try
        {
            base.Dispose(disposing);
        }
        catch (NullReferenceException e) when (e.StackTrace?.Contains("MassTransit.Transports.ReceiveEndpoint.Stop", StringComparison.Ordinal) == true)
        {
            // MassTransit 8.5's in-memory bus can throw from ReceiveEndpoint.Stop while the test host stops (a race inside it,
            // seen in CI about twice in 1,300 tests even with WaitUntilStarted). The test's own assertions have all run by now;
            // the host is stopped either way.
        }
        _store?.Dispose();
        try
        {
            Directory.Delete(Root, recursive: true);
        }
        catch (IOException)
        {
            // The store may still be held open for an instant; the temp folder is cleaned by the OS.
        }
    }
}
