using System.Net;
using MassTransit;
using TOEX.Sharing.Contracts;
using TOEX.Sharing.Sealing;
using TOEX.Sharing.ServiceDefaults;
using TOEX.Sharing.Testing;

namespace TOEX.Sharing.Audit.Tests;

/// <summary>
/// The IG console's pages (cookie-authenticated HTML) in process: every page sends an anonymous caller to sign in, and an
/// officer of another organisation, whatever roles their issuer grants, sees nothing of a disclosure that is not theirs.
/// </summary>
public sealed class ConsolePagesTests : IDisposable
{
    private readonly AuditFactory _factory = new();

    public void Dispose() => _factory.Dispose();

    /// <summary>Every console route, and a path that reaches it (<c>{package}</c>, <c>{referral}</c> filled in by the test).</summary>
    public static readonly IReadOnlyList<(string Route, string Path)> Pages =
    [
        ("* /", "/"),
        ("* /signin", "/signin"),
        ("* /signin/{issuer}", "/signin/none"),
        ("* /signout", "/signout"),
        ("* /denied", "/denied"),
        ("* /justify", "/justify"),
        ("* /disclosures", "/disclosures?search.partner=bcc-childrens"),
        ("* /disclosures/{id:guid}", "/disclosures/{package}"),
        ("* /referrals", "/referrals"),
        ("* /referrals/{id:guid}", "/referrals/{referral}"),
        ("* /referrals/decided", "/referrals/decided?decision=approved&recipient=bcc-childrens"),
        ("* /agreements", "/agreements"),
        ("* /deliveries", "/deliveries"),
        ("* /integrity/{handler?}", "/integrity"),
        ("* /charts", "/charts"),
        ("* /status/{code:int}", "/status/404"),
    ];

    private static readonly string[] Open = ["/signin", "/signin/none", "/status/404"];

    private Task<HttpClient> SignedInAsync(string organisation, string subject, params string[] roles) =>
        _factory.ConsoleClientAsync(organisation, subject, roles);

    private async Task<(Guid Package, Guid Referral)> WmpDisclosureAsync()
    {
        var package = NewId.NextGuid();
        var signer = new DecisionSigner(_factory.DecisionKeys.Current);
        await _factory.DeliverAsync(Events.Submitted(package, "wmp", Events.At, ["bcc-childrens", "rocu-wm"]));
        await _factory.DeliverAsync(new SharingDecided
        {
            PackageId = package,
            DecisionJws = signer.Sign(Events.Decision(package, Events.At.AddMinutes(1), Events.Permit, Events.Refer("rocu-wm", "DSA-POLICE-001"))),
        });
        await _factory.DeliverAsync(Events.Released(package, Events.At.AddMinutes(2)) with { Originator = "wmp" });
        return (package, DerivedId.From(package, "referral/rocu-wm"));
    }

    private static string Fill(string path, Guid package, Guid referral) =>
        path.Replace("{package}", package.ToString(), StringComparison.Ordinal).Replace("{referral}", referral.ToString(), StringComparison.Ordinal);

    [Fact]
    public async Task A_subject_search_finds_the_disclosures_about_that_person_and_records_the_consultation()
    {
        var package = NewId.NextGuid();
        var jane = new Subject { Role = "victim", Name = "Jane Example", DateOfBirth = new DateOnly(2010, 3, 14) };
        await _factory.DeliverAsync(Events.Submitted(package, "rocu-wm", Events.At, ["bcc-childrens"])
            with { SubjectIndexes = SubjectBlindIndex.Open(_factory.BlindIndexKeyPath, create: true).Of([jane]) });
        var officer = await SignedInAsync("rocu-wm", "officer-7", Roles.AuditRead);

        var found = await officer.GetStringAsync("/disclosures?search.name=Jane+Example&search.dateOfBirth=2010-03-14&search.justification=SAR-7");
        var other = await officer.GetStringAsync("/disclosures?search.name=Someone+Else&search.dateOfBirth=2010-03-14");

        Assert.Contains($"/disclosures/{package}", found, StringComparison.Ordinal);
        Assert.DoesNotContain($"/disclosures/{package}", other, StringComparison.Ordinal);
        var ledger = await _factory.LedgerAsync();
        Assert.Contains(ledger, e => e.Type == "consultation" && e.Actor == "rocu-wm/officer-7" && e.Justification == "SAR-7"
            && e.Canonical.Contains("console-subject-search", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Every_console_page_sends_an_anonymous_caller_to_sign_in()
    {
        var (package, referral) = await WmpDisclosureAsync();
        var anonymous = _factory.CreateClient(new Microsoft.AspNetCore.Mvc.Testing.WebApplicationFactoryClientOptions
        {
            BaseAddress = new Uri("https://localhost"),
            AllowAutoRedirect = false,
        });
        var failures = new List<string>();
        foreach (var (route, template) in Pages)
        {
            var path = Fill(template, package, referral);
            using var response = await anonymous.GetAsync(path);
            var body = await response.Content.ReadAsStringAsync();
            var expected = Open.Contains(template) ? "open" : "sign-in redirect";
            var ok = Open.Contains(template)
                ? response.StatusCode is HttpStatusCode.OK or HttpStatusCode.NotFound && !body.Contains(package.ToString(), StringComparison.Ordinal)
                : response.StatusCode == HttpStatusCode.Redirect && response.Headers.Location!.OriginalString.Contains("/signin?returnUrl=", StringComparison.Ordinal);
            if (!ok)
            {
                failures.Add($"{route} ({path}): expected {expected}, got {(int)response.StatusCode} {response.Headers.Location}");
            }
        }
        // A form posted without a session changes nothing: it is sent to sign in (or refused) before any handler runs.
        foreach (var path in new[] { "/signout", "/justify", "/integrity/check", $"/referrals/{referral}", "/deliveries?handler=Retry" })
        {
            using var response = await anonymous.PostAsync(path, new FormUrlEncodedContent([new("decision", "approved"), new("justification", "x")]));
            if (response.StatusCode is not (HttpStatusCode.Redirect or HttpStatusCode.BadRequest))
            {
                failures.Add($"POST {path}: expected a sign-in redirect or 400, got {(int)response.StatusCode}");
            }
        }
        Assert.True(failures.Count == 0, string.Join(Environment.NewLine, failures));
    }

    [Fact]
    public async Task An_officer_of_another_organisation_with_every_role_sees_nothing_of_a_disclosure_that_is_not_theirs()
    {
        var (package, referral) = await WmpDisclosureAsync();
        var owner = await SignedInAsync("wmp", "wmp-officer", [.. Roles.All]);
        var other = await SignedInAsync("staffs", "staffs-officer", [.. Roles.All]);
        var failures = new List<string>();

        // The owner sees its disclosure (so every refusal below is the scope at work).
        Assert.Contains(package.ToString(), await owner.GetStringAsync($"/disclosures?search.originator=wmp"), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, (await owner.GetAsync($"/disclosures/{package}")).StatusCode);

        foreach (var (route, template) in Pages.Where(p => !p.Route.Contains("signout", StringComparison.Ordinal)))
        {
            var path = Fill(template, package, referral);
            using var response = await other.GetAsync(path);
            var body = await response.Content.ReadAsStringAsync();
            if (body.Contains(package.ToString(), StringComparison.Ordinal) || body.Contains(referral.ToString(), StringComparison.Ordinal)
                || body.Contains("ROCUWM-2026-000123", StringComparison.Ordinal))
            {
                failures.Add($"{route} ({path}): {(int)response.StatusCode} shows wmp's disclosure to staffs");
            }
            if (template.Contains('{', StringComparison.Ordinal) && response.StatusCode != HttpStatusCode.NotFound)
            {
                failures.Add($"{route} ({path}): expected 404 for staffs, got {(int)response.StatusCode}");
            }
        }
        Assert.True(failures.Count == 0, string.Join(Environment.NewLine, failures));
    }
}
