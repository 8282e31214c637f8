using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Microsoft.Playwright;
using TOEX.Sharing.Cli.Tests;
using TOEX.Sharing.EndToEnd.Tests;
using TOEX.Sharing.Sealing;
using TOEX.Sharing.ServiceDefaults;
using TOEX.Sharing.Testing;

namespace TOEX.Sharing.Console.Tests;

/// <summary>
/// The IG console in Debian's Chromium (headless, Playwright), signing in through the npm oidc-provider with the
/// authorization code flow, against the three services as processes on a real RabbitMQ. Each test takes screenshots
/// (under the test output and the screenshots folder).
/// </summary>
public sealed class ConsoleBrowserTests(ConsoleServices services) : IClassFixture<ConsoleServices>
{
    private RunningServices Stack => services.Stack;

    private Guid Package(string reference) => services.Packages[reference];

    private static Guid ReferralOf(Guid package, string recipient) => DerivedId.From(package, $"referral/{recipient}");

    /// <summary>Waits until the ledger holds an entry of <paramref name="type"/> for the package (the console reads the ledger).</summary>
    private Task<JsonObject> LedgerHasAsync(Guid package, string type, string? partner = null) =>
        Stack.EventuallyAsync(async () =>
        {
            using var client = Stack.Client(Stack.Audit, "rocu-wm", "Audit.Read");
            var page = await client.GetFromJsonAsync<JsonObject>($"/api/v1/audit/entries?package={package}&type={type}&limit=1000");
            return page!["items"]!.AsArray().Select(i => i!.AsObject()).FirstOrDefault(i => partner is null || (string?)i["partner"] == partner);
        }, $"a {type} entry for {package}");

    private async Task SignInAsync(IPage page, string username, string path = "/")
    {
        try
        {
            await Browser.SignInAsync(page, username, path);
        }
        catch (TimeoutException e)
        {
            throw new TimeoutException($"{e.Message}\n{Stack.AuditProcess.FormatRecentOutput(400)}", e);
        }
    }

    [Fact]
    public async Task An_officer_signs_in_with_the_code_flow_and_finds_every_disclosure_about_a_subject()
    {
        foreach (var reference in new[] { "ROCUWM-2026-000126", "ROCUWM-2026-000127" })
        {
            await LedgerHasAsync(Package(reference), "submission");
            await LedgerHasAsync(Package(reference), "decision");
        }
        var page = await services.NewPageAsync();

        await SignInAsync(page, ConsoleServices.Officer, "/disclosures");
        await Browser.ScreenshotAsync(page, "02-justify");
        await Browser.JustifyAsync(page);
        await page.GetByLabel("Name").FillAsync("Robin Young");
        await page.GetByLabel("Date of birth").FillAsync("2012-01-20");
        await page.GetByRole(AriaRole.Button, new() { Name = "Search" }).ClickAsync();
        await Browser.ScreenshotAsync(page, "03-disclosures-subject-search");
        using (var diag = Stack.Client(Stack.Audit, "rocu-wm", "Audit.Read", "Disclosures.Approve"))
        {
            var p126 = Package("ROCUWM-2026-000126");
            await File.AppendAllTextAsync("/tmp/diag.txt", "\n" + "DIAG entries: " + await diag.GetStringAsync($"/api/v1/audit/entries?package={p126}"));
            await File.AppendAllTextAsync("/tmp/diag.txt", "\n" + "DIAG subjects: " + await diag.GetStringAsync("/api/v1/audit/subjects?name=Robin%20Young&dateOfBirth=2012-01-20"));
            await File.AppendAllTextAsync("/tmp/diag.txt", "\n" + "DIAG referrals: " + await diag.GetStringAsync("/api/v1/referrals"));
        }
        var table = page.Locator("table.table");
        await Assertions.Expect(table).ToContainTextAsync("ROCUWM-2026-000126");
        await Assertions.Expect(table).ToContainTextAsync("ROCUWM-2026-000127");
        await Assertions.Expect(table).Not.ToContainTextAsync("ROCUWM-2026-000124");

        await page.Locator("table.table").GetByRole(AriaRole.Link, new() { Name = "ROCUWM-2026-000126" }).First.ClickAsync();
        await Assertions.Expect(page.GetByRole(AriaRole.Heading, new() { Level = 1 })).ToContainTextAsync("ROCUWM-2026-000126");
        await Assertions.Expect(page.Locator("main")).ToContainTextAsync("REFER_SPECIAL_CATEGORY");
        await Assertions.Expect(page.Locator("main")).ToContainTextAsync("ISA-BCC-003");
        await Assertions.Expect(page.Locator("main")).ToContainTextAsync("UKGDPR:Art6(1)(e)");
        await Assertions.Expect(page.Locator("main")).ToContainTextAsync("CA2004:s11");
        await Assertions.Expect(page.Locator("main")).Not.ToContainTextAsync("not verified");
        await Browser.ScreenshotAsync(page, "04-disclosure");

        // The session cookie: HttpOnly and SameSite=Lax (Secure and __Host- over HTTPS: ConsolePagesTests in process).
        var cookie = (await page.Context.CookiesAsync()).Single(c => c.Name == "toex-console");
        Assert.True(cookie.HttpOnly);
        Assert.Equal(SameSiteAttribute.Lax, cookie.SameSite);
        // The search and the disclosure page are consultations in the ledger, with the justification and the officer.
        using var audit = Stack.Client(Stack.Audit, "rocu-wm", "Audit.Read");
        var consultations = await audit.GetFromJsonAsync<JsonObject>("/api/v1/audit/entries?type=consultation&limit=1000");
        var mine = consultations!["items"]!.AsArray().Where(i => (string)i!["actor"]! == $"rocu-wm/{ConsoleServices.Officer}").ToList();
        Assert.Contains(mine, i => (string)i!["justification"]! == "Subject access request SAR-2026-114");
        await page.Context.CloseAsync();
    }

    [Fact]
    public async Task Approving_a_referral_shows_the_copy_first_and_releases_the_package_to_the_partners_feed()
    {
        var package = Package("ROCUWM-2026-000126");
        await LedgerHasAsync(package, "decision", "bcc-childrens");
        var page = await services.NewPageAsync();
        await SignInAsync(page, ConsoleServices.Officer, "/referrals");
        await Browser.JustifyAsync(page);
        await Browser.ScreenshotAsync(page, "05-referrals");
        await page.Locator($"a[href='/referrals/{ReferralOf(package, "bcc-childrens")}']").ClickAsync();
        await Browser.JustifyAsync(page);

        // The copy an approval would release, from the gateway: the child's name, no identifiers (bcc-childrens is not a competent authority).
        var copy = page.Locator("section.copy");
        await Assertions.Expect(copy).ToContainTextAsync("ROCUWM-2026-000126");
        await Assertions.Expect(copy).ToContainTextAsync("Robin Young");
        await Assertions.Expect(copy).ToContainTextAsync("sourceDetails");
        await Browser.ScreenshotAsync(page, "06-referral");
        await page.GetByRole(AriaRole.Button, new() { Name = "Approve and release" }).ClickAsync();
        await Assertions.Expect(page.Locator(".error-summary")).ToContainTextAsync("Enter why");
        await page.GetByLabel("Justification (required)").FillAsync("Necessary to safeguard the child; the council leads the strategy meeting.");
        await page.GetByRole(AriaRole.Button, new() { Name = "Approve and release" }).ClickAsync();
        await Assertions.Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Decision recorded" })).ToBeVisibleAsync();
        await Browser.ScreenshotAsync(page, "07-referral-approved");

        // The package reaches the partner's feed, released on the officer's authority.
        var item = await Stack.EventuallyAsync(async () =>
        {
            using var feed = Stack.Client(Stack.Gateway, "bcc-childrens", "Feed.Read");
            var items = (await feed.GetFromJsonAsync<JsonObject>("/api/v1/feed?limit=100"))!["items"]!.AsArray();
            return items.Select(i => i!.AsObject()).FirstOrDefault(i => (string?)i["packageId"] == package.ToString());
        }, "the approved package on bcc-childrens' feed");
        var opened = JsonNode.Parse(PackageOpener.Open((string)item["sealed"]!, Stack.PartnerPrivateKeys["bcc-childrens"], await Stack.BrokerJwksAsync()))!;
        Assert.Equal("ROCUWM-2026-000126", (string?)opened["package"]!["reference"]);
        var release = await LedgerHasAsync(package, "release", "bcc-childrens");
        Assert.Contains(ConsoleServices.Officer, (string)release["actor"]!, StringComparison.Ordinal);
        await page.Context.CloseAsync();
    }

    [Fact]
    public async Task Rejecting_a_referral_releases_nothing()
    {
        var package = Package("ROCUWM-2026-000127");
        await LedgerHasAsync(package, "decision", "bcc-childrens");
        var page = await services.NewPageAsync();
        await SignInAsync(page, ConsoleServices.SecondOfficer, $"/referrals/{ReferralOf(package, "bcc-childrens")}");
        await Browser.JustifyAsync(page);
        await page.GetByLabel("Justification (required)").FillAsync("The council already holds this; a second copy adds nothing.");
        await page.GetByRole(AriaRole.Button, new() { Name = "Reject" }).ClickAsync();
        await Assertions.Expect(page.GetByRole(AriaRole.Status)).ToContainTextAsync("Rejected: nothing is released to bcc-childrens");

        var rejected = await LedgerHasAsync(package, "referral-rejected", "bcc-childrens");
        Assert.Equal($"rocu-wm/{ConsoleServices.SecondOfficer}", (string)rejected["actor"]!);
        var status = await Stack.EventuallyAsync(async () =>
        {
            using var client = Stack.Client(Stack.Gateway, "rocu-wm", "Packages.Submit");
            var recipient = (await client.GetFromJsonAsync<JsonObject>($"/api/v1/packages/{package}"))!["recipients"]!.AsArray()
                .Single(r => (string)r!["partner"]! == "bcc-childrens")!.AsObject();
            return (string?)recipient["outcome"] == "deny" ? recipient : null;
        }, "the rejection at the gateway");
        Assert.NotEqual("released", (string?)status["delivery"]?["state"]);
        await page.Context.CloseAsync();
    }

    [Fact]
    public async Task An_officer_checks_the_ledger_is_consistent_and_downloads_an_evidence_bundle_that_verifies()
    {
        var page = await services.NewPageAsync();
        await SignInAsync(page, ConsoleServices.SecondOfficer, "/integrity");
        await Assertions.Expect(page.Locator("main")).ToContainTextAsync("valid");
        await page.GetByRole(AriaRole.Button, new() { Name = "Check consistency from the last head I checked" }).ClickAsync();
        await Assertions.Expect(page.GetByRole(AriaRole.Status)).ToContainTextAsync("Consistent");
        await LedgerHasAsync(Package("ROCUWM-2026-000124"), "release");
        await page.GetByRole(AriaRole.Button, new() { Name = "Check consistency from the last head I checked" }).ClickAsync();
        await Assertions.Expect(page.GetByRole(AriaRole.Status)).ToContainTextAsync("nothing was changed or removed");
        await Browser.ScreenshotAsync(page, "08-integrity");

        // An export shows every entry in it: the session's justification first, then the download.
        await page.GotoAsync("/justify?returnUrl=/integrity");
        await Browser.JustifyAsync(page);
        var download = await page.RunAndWaitForDownloadAsync(() => page.GetByRole(AriaRole.Link, new() { Name = "Download the whole ledger's evidence bundle" }).ClickAsync());
        var bundle = Path.Combine(Stack.Root, "console-bundle.json");
        await download.SaveAsAsync(bundle);
        var jwks = Path.Combine(Stack.Root, "console-audit.jwks.json");
        using var http = new HttpClient { BaseAddress = Stack.Audit };
        await File.WriteAllTextAsync(jwks, await http.GetStringAsync("/.well-known/jwks.json"));
        var verified = await Toex.RunAsync("audit", "verify", "--bundle", bundle, "--jwks", jwks);
        Assert.True(verified.ExitCode == 0, verified.ToString());
        await page.Context.CloseAsync();
    }

    [Fact]
    public async Task An_operator_retries_a_dead_lettered_push_from_the_deliveries_page()
    {
        var package = Package("ROCUWM-2026-000124");
        await LedgerHasAsync(package, "webhook-dead-lettered", "staffs");
        await using var staffs = await WebhookReceiver.StartAsync(services.StaffsPort);
        var page = await services.NewPageAsync();
        await SignInAsync(page, ConsoleServices.Officer, "/deliveries");
        var dead = page.Locator("table[aria-labelledby='dead']");
        await Assertions.Expect(dead).ToContainTextAsync("ROCUWM-2026-000124");
        await Browser.ScreenshotAsync(page, "09-deliveries");
        await dead.GetByLabel("Reason").First.FillAsync("staffs restored their endpoint");
        await dead.GetByRole(AriaRole.Button, new() { Name = "Retry push to staffs" }).ClickAsync();
        await Assertions.Expect(page.GetByRole(AriaRole.Status)).ToContainTextAsync("The gateway is sending the push again.");
        await Browser.ScreenshotAsync(page, "10-deliveries-retried");

        await staffs.WaitForRequestAsync(1, TimeSpan.FromSeconds(60));
        var retry = await LedgerHasAsync(package, "webhook-retry", "staffs");
        Assert.Contains(ConsoleServices.Officer, (string)retry["actor"]!, StringComparison.Ordinal);
        await LedgerHasAsync(package, "webhook-delivered", "staffs");
        await page.Context.CloseAsync();
    }

    /// <summary>The console's pages a signed-in officer visits, for the keyboard and accessibility passes.</summary>
    private IReadOnlyList<(string Name, string Path)> MainPages() =>
    [
        ("start", "/"),
        ("disclosures", "/disclosures?search.partner=bcc-childrens"),
        ("disclosure", $"/disclosures/{Package("ROCUWM-2026-000123")}"),
        ("referrals", "/referrals"),
        ("agreements", "/agreements"),
        ("deliveries", "/deliveries"),
        ("integrity", "/integrity"),
        ("charts", "/charts"),
    ];

    [Fact]
    public async Task Every_main_page_can_be_used_by_keyboard_alone_with_a_visible_focus()
    {
        await LedgerHasAsync(Package("ROCUWM-2026-000123"), "release");
        var page = await services.NewPageAsync();
        // Sign in by keyboard too: the identity provider's form, typed and submitted with Enter.
        await page.GotoAsync("/");
        await page.Keyboard.PressAsync("Tab");
        await page.Keyboard.PressAsync("Tab");
        await page.Keyboard.PressAsync("Tab");
        Assert.Equal($"Sign in with {ConsoleServices.ProviderName}", await page.EvaluateAsync<string>("document.activeElement.textContent.trim()"));
        await page.Keyboard.PressAsync("Enter");
        await page.GetByLabel("Username").FocusAsync();
        await page.Keyboard.TypeAsync(ConsoleServices.Officer);
        await page.Keyboard.PressAsync("Tab");
        await page.Keyboard.TypeAsync(ConsoleServices.Password);
        await page.Keyboard.PressAsync("Enter");
        await page.WaitForURLAsync(url => url.TrimEnd('/') == Stack.Audit.ToString().TrimEnd('/'));
        var failures = new List<string>();
        foreach (var (name, path) in MainPages())
        {
            await page.GotoAsync(path);
            if (page.Url.Contains("/justify", StringComparison.Ordinal))
            {
                await page.GetByLabel("Justification").FocusAsync();
                await page.Keyboard.TypeAsync("Keyboard check of the console");
                await page.Keyboard.PressAsync("Enter");
                await page.WaitForURLAsync(url => !url.Contains("/justify", StringComparison.Ordinal));
            }
            // The first Tab reaches the skip link, and following it moves focus to the main content.
            await page.Keyboard.PressAsync("Tab");
            if (await page.EvaluateAsync<string>("document.activeElement.textContent.trim()") != "Skip to main content")
            {
                failures.Add($"{name}: the first Tab does not reach the skip link");
            }
            await page.Keyboard.PressAsync("Enter");
            if (await page.EvaluateAsync<string>("document.activeElement.id") != "main")
            {
                failures.Add($"{name}: the skip link does not move focus to the main content");
            }
            // Every control can be reached by Tab, each shows where the focus is, and the walk ends (no trap).
            var focusable = await page.EvaluateAsync<int>("document.querySelectorAll('main a[href], main button:not([disabled]), main input:not([type=hidden]), main select, main textarea, main summary').length");
            var seen = new HashSet<string>();
            // A date field takes several Tabs (day, month, year).
            for (var i = 0; i < focusable * 4 + 5; i++)
            {
                await page.Keyboard.PressAsync("Tab");
                var focus = await page.EvaluateAsync<string[]>("""
                    () => { const e = document.activeElement; const s = getComputedStyle(e);
                      return [e.tagName + '#' + (e.id || e.textContent.trim().slice(0, 40)) + '@' + (e.getAttribute('href') || e.name || ''),
                              String(s.outlineStyle !== 'none' && s.outlineWidth !== '0px' || s.boxShadow !== 'none' || s.backgroundColor === 'rgb(255, 221, 0)')]; }
                    """);
                if (focus[0].StartsWith("BODY", StringComparison.Ordinal))
                {
                    break;
                }
                seen.Add(focus[0]);
                if (focus[1] != "True" && focus[1] != "true")
                {
                    failures.Add($"{name}: no visible focus on {focus[0]}");
                }
            }
            if (seen.Count < Math.Min(focusable, 3))
            {
                failures.Add($"{name}: Tab reached {seen.Count} of {focusable} controls");
            }
        }
        await Browser.ScreenshotAsync(page, "11-keyboard-last-page");
        Assert.True(failures.Count == 0, string.Join(Environment.NewLine, failures.Distinct()));
        await page.Context.CloseAsync();
    }

    [Fact]
    public async Task Axe_finds_no_serious_or_critical_violation_on_any_page()
    {
        var package = Package("ROCUWM-2026-000123");
        await LedgerHasAsync(package, "release");
        var page = await services.NewPageAsync();
        var failures = new List<string>();
        await page.GotoAsync("/signin");
        failures.AddRange((await Browser.SeriousViolationsAsync(page)).Select(v => $"signin: {v}"));
        await Browser.ScreenshotAsync(page, "01-signin");
        await SignInAsync(page, ConsoleServices.SecondOfficer, "/justify?returnUrl=/");
        failures.AddRange((await Browser.SeriousViolationsAsync(page)).Select(v => $"justify: {v}"));
        await Browser.JustifyAsync(page);
        var referral = Package("ROCUWM-2026-000126");
        foreach (var (name, path) in MainPages().Append(("referral", $"/referrals/{ReferralOf(referral, "bcc-childrens")}")).Append(("denied", "/denied")))
        {
            await page.GotoAsync(path);
            failures.AddRange((await Browser.SeriousViolationsAsync(page)).Select(v => $"{name}: {v}"));
            await Browser.ScreenshotAsync(page, $"axe-{name}");
        }
        Assert.True(failures.Count == 0, string.Join(Environment.NewLine, failures));
        await page.Context.CloseAsync();
    }

    [Fact]
    public async Task A_partners_officer_sees_nothing_of_another_organisations_disclosures()
    {
        var package = Package("ROCUWM-2026-000126");
        await LedgerHasAsync(package, "decision");
        var page = await services.NewPageAsync();
        await SignInAsync(page, ConsoleServices.PartnerOfficer, "/disclosures");
        await Browser.JustifyAsync(page);
        await page.GetByLabel("Name").FillAsync("Robin Young");
        await page.GetByLabel("Date of birth").FillAsync("2012-01-20");
        await page.GetByRole(AriaRole.Button, new() { Name = "Search" }).ClickAsync();
        await Assertions.Expect(page.Locator("table.table caption")).ToHaveTextAsync("0 entries");
        await Browser.ScreenshotAsync(page, "12-partner-sees-nothing");

        var failures = new List<string>();
        foreach (var path in new[]
        {
            "/disclosures", $"/disclosures/{package}", "/referrals", $"/referrals/{ReferralOf(package, "bcc-childrens")}", "/deliveries", "/charts",
            "/agreements", "/integrity",
        })
        {
            var response = await page.GotoAsync(path);
            var text = await page.Locator("body").InnerTextAsync();
            foreach (var secret in new[] { "ROCUWM-2026-", package.ToString(), "Robin Young", "bcc-childrens" })
            {
                if (text.Contains(secret, StringComparison.Ordinal) && !(path == "/disclosures" && secret == "bcc-childrens"))
                {
                    failures.Add($"{path} ({response?.Status}) shows '{secret}'");
                }
            }
        }
        Assert.True(failures.Count == 0, string.Join(Environment.NewLine, failures));
        await page.Context.CloseAsync();
    }
}
