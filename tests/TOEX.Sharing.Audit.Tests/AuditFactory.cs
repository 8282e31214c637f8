using System.Net.Http.Headers;
using MassTransit;
using MassTransit.Testing;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.TestHost;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using TOEX.Sharing.Audit.Consumers;
using TOEX.Sharing.Audit.Data;
using TOEX.Sharing.Sealing;

using TOEX.Sharing.Testing;

namespace TOEX.Sharing.Audit.Tests;

/// <summary>
/// The audit service in process with its own temporary ledger, development issuer and PolicyDecision
/// key ring (whose public JWKS is the one the service trusts); the bus is MassTransit's test harness.
/// </summary>
public sealed partial class AuditFactory : WebApplicationFactory<Program>
{
    private readonly bool _owns;

    /// <summary>A service with a new, empty ledger on <paramref name="store"/>.</summary>
    public AuditFactory(StoreKind store = StoreKind.Sqlite)
    {
        Root = Directory.CreateTempSubdirectory("toex-audit-").FullName;
        Store = TestStore.Create(store, Root, "audit");
        _owns = true;
        DecisionKeys = LocalKeyRing.OpenOrCreate(Path.Combine(Root, "policy-decision"), TimeProvider.System);
        File.WriteAllText(DecisionJwksPath, DecisionKeys.PublicJwks());
    }

    /// <summary>
    /// A service over the ledger, key rings and issuer of <paramref name="previous"/> (a restart, or a second
    /// instance), which it leaves in place when disposed.
    /// </summary>
    public AuditFactory(AuditFactory previous)
    {
        Root = previous.Root;
        Store = previous.Store;
        DecisionKeys = LocalKeyRing.OpenOrCreate(Path.Combine(Root, "policy-decision"), TimeProvider.System);
    }

    public string Root { get; }

    /// <summary>The ledger's store (SQLite or PostgreSQL).</summary>
    public TestStore Store { get; }

    /// <summary>More configuration, applied last (set before the first client is created).</summary>
    public Dictionary<string, string?> Settings { get; } = [];

    public string BlindIndexKeyPath => Path.Combine(Root, "blind-index.key");

    /// <summary>The organisation that answers for the whole ledger in these tests (as rocu-wm does in the local run).</summary>
    public const string Custodian = "rocu-wm";

    public string DevIssuerDirectory => Path.Combine(Root, "dev-issuer");
    public string DecisionJwksPath => Path.Combine(Root, "policy-decision.jwks.json");
    public string AuditKeyRingPath => Path.Combine(Root, "audit-keys");

    /// <summary>PolicyDecision's keys as the service knows them: what these sign verifies.</summary>
    public LocalKeyRing DecisionKeys { get; }

    public ITestHarness Harness => Services.GetRequiredService<ITestHarness>();

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseEnvironment("Development");
        builder.UseSetting("Authentication:DevIssuer:Directory", DevIssuerDirectory);
        builder.UseSetting("Audit:Database", Store.Database);
        builder.UseSetting("Audit:ConnectionString", Store.ConnectionString);
        builder.UseSetting("Audit:DecisionJwksPath", DecisionJwksPath);
        builder.UseSetting("Audit:KeyRingPath", AuditKeyRingPath);
        builder.UseSetting("Audit:PublicJwksPath", Path.Combine(Root, "audit.jwks.json"));
        builder.UseSetting("Audit:Custodians:0", Custodian);
        builder.UseSetting("RabbitMq:Url", "amqp://unused:unused@127.0.0.1:1/");
        builder.UseSetting("Audit:BlindIndexKeyPath", BlindIndexKeyPath);
        foreach (var (key, value) in Settings)
        {
            builder.UseSetting(key, value);
        }
        builder.ConfigureTestServices(services =>
        {
            services.AddSingleton<Consumptions>();
            services.AddConsumeObserver(provider => provider.GetRequiredService<Consumptions>());
            services.AddMassTransitTestHarness(bus =>
            {
                bus.SetTestTimeouts(testTimeout: TimeSpan.FromSeconds(60), testInactivityTimeout: TimeSpan.FromSeconds(3));
                bus.AddAuditConsumers();
            });
        });
    }

    /// <summary>
    /// Publishes <paramref name="message"/> with <paramref name="messageId"/> (new if null) and waits until its consumer
    /// has finished with it. <paramref name="delivery"/> tells two deliveries of one message apart.
    /// </summary>
    public async Task DeliverAsync<T>(T message, Guid? messageId = null, string delivery = "1") where T : class
    {
        var id = messageId ?? NewId.NextGuid();
        var consumed = Services.GetRequiredService<Consumptions>().WaitAsync(id, delivery, TimeSpan.FromSeconds(30));
        await Harness.Bus.Publish(message, context =>
        {
            context.MessageId = id;
            context.Headers.Set(Consumptions.DeliveryHeader, delivery);
        });
        await consumed;
    }

    /// <summary>
    /// A browser-like client of the IG console, signed in through the development sign-in as <paramref name="subject"/> of
    /// <paramref name="organisation"/> with <paramref name="roles"/>, with the session's justification given.
    /// </summary>
    public async Task<HttpClient> ConsoleClientAsync(string organisation, string subject, params string[] roles)
    {
        var client = CreateClient(new WebApplicationFactoryClientOptions { BaseAddress = new Uri("https://localhost"), AllowAutoRedirect = false });
        var form = await client.GetStringAsync("/signin");
        var signIn = await client.PostAsync("/signin?handler=Development", new FormUrlEncodedContent(
        [
            new("__af", AntiforgeryField().Match(form).Groups[1].Value), new("returnUrl", "/"), new("organisation", organisation),
            new("subject", subject), .. roles.Select(r => new KeyValuePair<string, string>("roles", r)),
        ]));
        Assert.Equal(System.Net.HttpStatusCode.Redirect, signIn.StatusCode);
        var justify = await client.GetStringAsync("/justify");
        var justified = await client.PostAsync("/justify", new FormUrlEncodedContent(
        [
            new("__af", AntiforgeryField().Match(justify).Groups[1].Value), new("returnUrl", "/"), new("justification", "Testing the console"),
        ]));
        Assert.Equal(System.Net.HttpStatusCode.Redirect, justified.StatusCode);
        return client;
    }

    [System.Text.RegularExpressions.GeneratedRegex("name=\"__af\" type=\"hidden\" value=\"([^\"]+)\"")]
    private static partial System.Text.RegularExpressions.Regex AntiforgeryField();

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

    /// <summary>The ledger as stored, in index order.</summary>
    public async Task<List<LedgerEntry>> LedgerAsync()
    {
        await using var scope = Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<AuditDb>();
        return await db.Entries.AsNoTracking().OrderBy(e => e.Index).ToListAsync();
    }

    /// <summary>Every column of every stored row of <paramref name="table"/> as text, whatever columns the table has.</summary>
    public Task<List<string>> StoredTextAsync(string table = "Entries") => Store.ReadAllTextAsync(table);

    /// <summary>Runs <paramref name="sql"/> on the ledger's store directly, as someone with access to the store could.</summary>
    public Task TamperAsync(string sql) => Store.ExecuteAsync(sql);

    protected override void Dispose(bool disposing)
    {
        base.Dispose(disposing);
        DecisionKeys.Dispose();
        if (!_owns)
        {
            return;
        }
        Store.Dispose();
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
