using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.Playwright;
using TOEX.Sharing.EndToEnd.Tests;
using TOEX.Sharing.Testing;

namespace TOEX.Sharing.Console.Tests;

/// <summary>
/// The three services as processes on a private RabbitMQ, the audit service serving the IG console with sign-in through
/// the npm oidc-provider (authorization code flow with PKCE, its own login form), push partners' endpoints (staffs' down,
/// with a short retry horizon, so its pushes are dead-lettered), the sample packages submitted, and Debian's Chromium,
/// headless, driven by Playwright.
/// </summary>
public sealed class ConsoleServices : IAsyncLifetime
{
    public const string Password = "correct horse battery staple";
    public const string Officer = "ig-officer";
    public const string SecondOfficer = "ig-officer-2";
    public const string PartnerOfficer = "safe-haven-officer";
    public const string ConsoleClient = "toex-console";
    public const string ProviderName = "Test identity provider";

    private readonly List<WebhookReceiver> _receivers = [];
    private IPlaywright? _playwright;

    public RunningServices Stack { get; } = new();

    public IBrowser Browser { get; private set; } = null!;

    public int StaffsPort { get; } = FreePort.Next();

    /// <summary>The submitted samples, by reference.</summary>
    public Dictionary<string, Guid> Packages { get; } = [];

    public Uri Console => Stack.Audit;

    public static string ScreenshotFolder { get; } = CreateScreenshotFolder();

    public async Task InitializeAsync()
    {
        var secret = Convert.ToHexString(System.Security.Cryptography.RandomNumberGenerator.GetBytes(24));
        Stack.OidcWebClients.Add(new OidcWebClient(ConsoleClient, secret, [$"http://127.0.0.1:{Stack.AuditPort}/signin-oidc/oidc-test"]));
        string[] officerRoles = ["Audit.Read", "Disclosures.Approve", "Policies.Read", "Deliveries.Operate"];
        Stack.OidcUsers.Add(new OidcUser(Officer, Password, "rocu-wm", officerRoles));
        Stack.OidcUsers.Add(new OidcUser(SecondOfficer, Password, "rocu-wm", officerRoles));
        // A partner whose own identity provider grants its officer every role.
        Stack.OidcUsers.Add(new OidcUser(PartnerOfficer, Password, "safe-haven",
            ["Audit.Read", "Disclosures.Approve", "Policies.Read", "Deliveries.Operate", "Packages.Submit", "Feed.Read"]));

        var authority = $"http://127.0.0.1:{Stack.OidcPort}";
        foreach (var (key, value) in new Dictionary<string, string?>
        {
            ["Authentication__Issuers__0__Name"] = "oidc-test",
            ["Authentication__Issuers__0__Authority"] = authority,
            ["Authentication__Issuers__0__Audience"] = OidcProviderIssuer.Audience,
            ["Authentication__Issuers__0__RequireHttpsMetadata"] = "false",
            ["Authentication__Issuers__0__Organisations__0"] = "rocu-wm",
            ["Authentication__Issuers__0__Organisations__1"] = "safe-haven",
            ["Authentication__Issuers__0__Roles__0"] = "Audit.Read",
            ["Authentication__Issuers__0__Roles__1"] = "Disclosures.Approve",
            ["Authentication__Issuers__0__Roles__2"] = "Policies.Read",
            ["Authentication__Issuers__0__Roles__3"] = "Deliveries.Operate",
            ["Authentication__Issuers__0__Roles__4"] = "Feed.Read",
            ["Authentication__Issuers__0__Roles__5"] = "Packages.Submit",
            ["Operations__Organisations__0"] = "rocu-wm",
            ["Console__Issuers__0__Issuer"] = "oidc-test",
            ["Console__Issuers__0__DisplayName"] = ProviderName,
            ["Console__Issuers__0__ClientId"] = ConsoleClient,
            ["Console__Issuers__0__ClientSecret"] = secret,
            ["Console__GatewayUrl"] = $"http://127.0.0.1:{Stack.GatewayPort}",
            // Loopback HTTP: the session cookie is sent as the request came (Production refuses this; in-process tests check the HTTPS cookie).
            ["Console__RequireHttps"] = "false",
            ["Audit__PreviewKeyPath"] = Path.Combine(Stack.Root, "keys"),
        })
        {
            Stack.AuditSettings[key] = value;
        }

        foreach (var partner in new[] { "wmp", "bcc-childrens", "safe-haven" })
        {
            var receiver = await WebhookReceiver.StartAsync();
            _receivers.Add(receiver);
            Register(partner, receiver.Url);
        }
        Register("staffs", new Uri($"http://127.0.0.1:{StaffsPort}/hooks"));
        Stack.GatewaySettings["Gateway__Webhooks__FirstRetryDelay"] = "00:00:00.200";
        Stack.GatewaySettings["Gateway__Webhooks__MaxRetryDelay"] = "00:00:01";
        Stack.GatewaySettings["Gateway__Webhooks__Jitter"] = "0";
        Stack.GatewaySettings["Gateway__Webhooks__Horizon"] = "00:00:03";
        Stack.GatewaySettings["Gateway__ReferralPreview__JwksPath"] = Path.Combine(Stack.Root, "keys", "audit-preview.jwks.json");
        Stack.GatewaySettings["Operations__Organisations__0"] = "rocu-wm";
        // This issuer is also the operator organisation's (rocu-wm's): it may grant the operator role, which the gateway
        // honours for rocu-wm alone (Operations:Organisations); safe-haven's officer loses it.
        Stack.GatewaySettings["Authentication__Issuers__0__Roles__4"] = "Deliveries.Operate";
        await Stack.InitializeAsync();

        foreach (var sample in new[] { "rocuwm-2026-000123.json", "rocuwm-2026-000124.json", "rocuwm-2026-000126.json" })
        {
            await SubmitAsync(await File.ReadAllTextAsync(Path.Combine(RepoPaths.Root, "deploy", "samples", sample)));
        }
        // A second referral about the same child, for a rejection.
        var again = JsonNode.Parse(await File.ReadAllTextAsync(Path.Combine(RepoPaths.Root, "deploy", "samples", "rocuwm-2026-000126.json")))!;
        again["reference"] = "ROCUWM-2026-000127";
        again["summary"] = "A second report about the same child: seen with an adult not known to the family.";
        await SubmitAsync(again.ToJsonString());

        _playwright = await Playwright.CreateAsync();
        Browser = await _playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = ChromiumPath(),
            Headless = true,
            Args = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-dev-shm-usage"],
        });
    }

    private async Task SubmitAsync(string json)
    {
        using var client = Stack.Client(Stack.Gateway, "rocu-wm", "Packages.Submit");
        var response = await client.PostAsync("/api/v1/packages", new StringContent(json, Encoding.UTF8, "application/json"));
        var body = await response.Content.ReadFromJsonAsync<JsonObject>();
        Assert.True(response.IsSuccessStatusCode, $"submission: {(int)response.StatusCode} {body}");
        Packages[(string)JsonNode.Parse(json)!["reference"]!] = Guid.Parse((string)body!["id"]!);
    }

    private void Register(string partner, Uri endpoint)
    {
        Directory.CreateDirectory(Stack.PartnerKeysDirectory);
        File.WriteAllText(Path.Combine(Stack.PartnerKeysDirectory, partner + ".webhook.json"),
            new JsonObject { ["endpoint"] = endpoint.ToString(), ["localDevelopment"] = true }.ToJsonString());
    }

    /// <summary>Debian's Chromium (the package installs /usr/bin/chromium, a launcher script, and the binary under /usr/lib).</summary>
    private static string ChromiumPath()
    {
        foreach (var path in new[] { "/usr/lib/chromium/chromium", "/usr/bin/chromium" })
        {
            if (File.Exists(path))
            {
                return path;
            }
        }
        throw new InvalidOperationException("Chromium is not installed: the console's browser tests need Debian's 'chromium' package (apt-get install chromium).");
    }

    private static string CreateScreenshotFolder()
    {
        var folder = Environment.GetEnvironmentVariable("TOEX_SCREENSHOTS")
            ?? (Directory.Exists("/work/notes") ? "/work/notes/console-screenshots" : Path.Combine(AppContext.BaseDirectory, "screenshots"));
        Directory.CreateDirectory(folder);
        return folder;
    }

    /// <summary>A fresh browser context (its own cookies) at the console.</summary>
    public async Task<IPage> NewPageAsync()
    {
        var context = await Browser.NewContextAsync(new BrowserNewContextOptions
        {
            BaseURL = Console.ToString(),
            ViewportSize = new ViewportSize { Width = 1280, Height = 900 },
            // axe-core is injected into the pages; the console's own policy allows no script at all.
            BypassCSP = true,
            Locale = "en-GB",
            AcceptDownloads = true,
        });
        context.SetDefaultTimeout(30_000);
        return await context.NewPageAsync();
    }

    public async Task DisposeAsync()
    {
        if (Browser is not null)
        {
            await Browser.DisposeAsync();
        }
        _playwright?.Dispose();
        await Stack.DisposeAsync();
        foreach (var receiver in _receivers)
        {
            await receiver.DisposeAsync();
        }
    }
}
