using System.Text;
using System.Text.Json.Nodes;
using MassTransit;
using TOEX.Sharing.Contracts;
using TOEX.Sharing.Sealing;
using TOEX.Sharing.ServiceDefaults;
using TOEX.Sharing.Testing;

namespace TOEX.Sharing.Audit.Tests;

/// <summary>
/// The metadata matrix of the audit service (issue 11): rocu-wm's package ROCUWM-2026-000125 about Pat Person went to
/// safe-haven alone (bsol-nhs-safeguarding and border-force-mids denied, acme-logistics unknown), and its package
/// ROCUWM-2026-000126 waits for an IG officer's approval for bcc-childrens. Every route is called by every organisation
/// that has no business with either, each with every role its token can carry: nothing of them comes back.
/// </summary>
public sealed class MetadataMatrixTests : IAsyncLifetime
{
    private const string Reference = "ROCUWM-2026-000125";
    private const string ReferredReference = "ROCUWM-2026-000126";
    private static readonly Subject Pat = new()
    {
        Role = "victim", Name = "Pat Person", DateOfBirth = new DateOnly(1990, 5, 17), Identifiers = new Dictionary<string, string> { ["pnc"] = "10/123456X" },
    };

    private readonly AuditFactory _factory = new();
    private readonly Guid _package = NewId.NextGuid();
    private readonly Guid _referred = NewId.NextGuid();
    private Guid _referral;
    private List<long> _indexes = [];

    public async Task InitializeAsync()
    {
        var blindIndex = SubjectBlindIndex.Open(_factory.BlindIndexKeyPath, create: true);
        var signer = new DecisionSigner(_factory.DecisionKeys.Current);
        await _factory.DeliverAsync(Events.Submitted(_package, "rocu-wm", Events.At, ["safe-haven", "bsol-nhs-safeguarding", "border-force-mids", "acme-logistics"])
            with { Reference = Reference, SubjectIndexes = blindIndex.Of([Pat]) });
        RecipientDecision Deny(string recipient) => Events.Deny with { Recipient = recipient, Agreement = null };
        await _factory.DeliverAsync(new SharingDecided
        {
            PackageId = _package,
            DecisionJws = signer.Sign(Events.Decision(_package, Events.At.AddMinutes(1), Events.Permit with { Recipient = "safe-haven", Agreement = "ISA-SH-006" },
                Deny("bsol-nhs-safeguarding"), Deny("border-force-mids"), Deny("acme-logistics"))),
        });
        await _factory.DeliverAsync(Events.Released(_package) with { Reference = Reference, Recipient = "safe-haven", Agreement = "ISA-SH-006" });
        await _factory.DeliverAsync(new WebhookDelivered
        {
            WebhookId = NewId.NextGuid(), PackageId = _package, Recipient = "safe-haven", Kind = "package", Attempt = 1, StatusCode = 200, At = Events.At.AddMinutes(3),
        });

        await _factory.DeliverAsync(Events.Submitted(_referred, "rocu-wm", Events.At, ["bcc-childrens"]) with { Reference = ReferredReference, SubjectIndexes = blindIndex.Of([Pat]) });
        await _factory.DeliverAsync(new SharingDecided
        {
            PackageId = _referred,
            DecisionJws = signer.Sign(Events.Decision(_referred, Events.At.AddMinutes(1), Events.Refer("bcc-childrens", "ISA-BCC-003"))),
        });
        _referral = DerivedId.From(_referred, "referral/bcc-childrens");
        _indexes = [.. (await _factory.LedgerAsync()).Select(e => e.Index)];
    }

    public Task DisposeAsync()
    {
        _factory.Dispose();
        return Task.CompletedTask;
    }

    /// <summary>The ids, references and names of both disclosures.</summary>
    private string[] Everything() =>
    [
        _package.ToString(), Reference, _referred.ToString(), ReferredReference, _referral.ToString(),
        "safe-haven", "bsol-nhs-safeguarding", "border-force-mids", "acme-logistics", "analyst-4471",
    ];

    private IReadOnlyList<Outsider> Outsiders() =>
    [
        new("border-force-mids", "a recipient the policy denied", Everything()),
        new("bsol-nhs-safeguarding", "a recipient the policy denied", Everything()),
        new("bcc-childrens", "referred, not yet approved", Everything()),
        new("staffs", "an unrelated partner", Everything()),
        // The one permitted recipient may read its own copy: never who else was sent or refused it, or the other package.
        new("safe-haven", "the permitted recipient, about the others", [
            "bsol-nhs-safeguarding", "border-force-mids", "acme-logistics", "analyst-4471", _referred.ToString(), ReferredReference, _referral.ToString()]),
    ];

    private static StringContent Justification() =>
        new(new JsonObject { ["justification"] = "I want to see what happens." }.ToJsonString(), Encoding.UTF8, "application/json");

    private IReadOnlyList<MetadataProbe> Probes()
    {
        Task<IReadOnlyList<ProbeRequest>> Get(params string[] paths) => Task.FromResult(MetadataMatrix.Get(paths));
        string[] Searches(string route) =>
        [
            $"{route}?limit=1000", $"{route}?package={_package}", $"{route}?package={_referred}", $"{route}?originator=rocu-wm",
            $"{route}?partner=safe-haven", $"{route}?partner=bcc-childrens", $"{route}?type=decision", $"{route}?outcome=refer",
        ];
        string[] Subjects(string route) =>
            [$"{route}?name=Pat%20Person&dateOfBirth=1990-05-17", $"{route}?name=Pat%20Person", $"{route}?pnc=10/123456X"];
        return
        [
            new("GET /.well-known/jwks.json") { HoldsNoPackageData = "the audit service's public keys" },
            new("GET /openapi/{documentName}.json") { HoldsNoPackageData = "the API's description" },
            new("* /health") { HoldsNoPackageData = "readiness" },
            new("* /alive") { HoldsNoPackageData = "liveness" },
            new("GET /api/v1/audit/entries") { Requests = () => Get(Searches("/api/v1/audit/entries")) },
            new("GET /api/v1/audit/entries.csv") { Requests = () => Get(Searches("/api/v1/audit/entries.csv")) },
            new("GET /api/v1/audit/subjects") { Requests = () => Get(Subjects("/api/v1/audit/subjects")) },
            new("GET /api/v1/audit/subjects.csv") { Requests = () => Get(Subjects("/api/v1/audit/subjects.csv")) },
            new("GET /api/v1/audit/tree-head") { Requests = () => Get("/api/v1/audit/tree-head") },
            new("GET /api/v1/audit/proofs/inclusion")
            {
                Requests = () => Get([.. _indexes.Select(i => $"/api/v1/audit/proofs/inclusion?index={i}")]),
            },
            new("GET /api/v1/audit/proofs/consistency") { Requests = () => Get("/api/v1/audit/proofs/consistency?from=1") },
            new("GET /api/v1/audit/export") { Requests = () => Get("/api/v1/audit/export", $"/api/v1/audit/export?from=0&to={_indexes[^1]}") },
            new("GET /api/v1/referrals/") { Requests = () => Get("/api/v1/referrals") },
            new("POST /api/v1/referrals/{id:guid}/approve")
            {
                Requests = () => Task.FromResult<IReadOnlyList<ProbeRequest>>([new(HttpMethod.Post, $"/api/v1/referrals/{_referral}/approve", Justification)]),
            },
            new("POST /api/v1/referrals/{id:guid}/reject")
            {
                Requests = () => Task.FromResult<IReadOnlyList<ProbeRequest>>([new(HttpMethod.Post, $"/api/v1/referrals/{_referral}/reject", Justification)]),
            },
            // The register of agreements the caller is party to, with how many disclosures each carried: counts in its scope.
            new("GET /api/v1/agreements/") { Requests = () => Get("/api/v1/agreements", "/api/v1/agreements?from=2026-01-01&to=2027-01-01") },
        ];
    }

    /// <summary>The IG console's pages (cookie sessions): the same outsiders, signed in with every role.</summary>
    private IReadOnlyList<MetadataProbe> ConsoleProbes()
    {
        Task<IReadOnlyList<ProbeRequest>> Get(params string[] paths) => Task.FromResult(MetadataMatrix.Get(paths));
        string[] Disclosures() =>
        [
            "/disclosures", $"/disclosures?search.package={_package}", "/disclosures?search.originator=rocu-wm", "/disclosures?search.partner=safe-haven",
            "/disclosures?search.partner=bcc-childrens", "/disclosures?search.outcome=deny", "/disclosures?search.agreement=ISA-SH-006",
            "/disclosures?search.name=Pat+Person&search.dateOfBirth=1990-05-17", "/disclosures?search.name=Pat+Person", "/disclosures?search.pnc=10/123456X",
        ];
        return
        [
            new("* /") { Requests = () => Get("/") },
            new("* /signin") { HoldsNoPackageData = "the sign-in page" },
            new("* /signin/{issuer}") { HoldsNoPackageData = "the redirect to an identity provider" },
            new("* /signout") { HoldsNoPackageData = "signing out" },
            new("* /denied") { HoldsNoPackageData = "the page saying a role is missing" },
            new("* /justify") { HoldsNoPackageData = "the justification form" },
            new("* /status/{code:int}") { HoldsNoPackageData = "an error page" },
            new("* /disclosures") { Requests = () => Get(Disclosures()) },
            new("* /disclosures/{id:guid}") { Requests = () => Get($"/disclosures/{_package}", $"/disclosures/{_referred}") },
            new("* /referrals") { Requests = () => Get("/referrals") },
            new("* /referrals/{id:guid}") { Requests = () => Get($"/referrals/{_referral}") },
            new("* /referrals/decided") { Requests = () => Get("/referrals/decided", "/referrals/decided?recipient=bcc-childrens") },
            new("* /agreements") { Requests = () => Get("/agreements") },
            new("* /deliveries") { Requests = () => Get("/deliveries") },
            new("* /integrity/{handler?}") { Requests = () => Get("/integrity") },
            new("* /charts") { Requests = () => Get("/charts") },
        ];
    }

    [Fact]
    public void Every_route_of_the_audit_service_is_in_the_metadata_matrix()
    {
        _ = _factory.Server;
        MetadataMatrix.AssertCovered(_factory.Services, [.. Probes(), .. ConsoleProbes()]);
    }

    [Fact]
    public async Task No_console_page_tells_an_officer_anything_of_a_disclosure_that_is_not_their_organisations()
    {
        var sessions = new Dictionary<string, HttpClient>();
        foreach (var outsider in Outsiders())
        {
            sessions[outsider.Organisation] = await _factory.ConsoleClientAsync(outsider.Organisation, $"{outsider.Organisation}-officer", [.. Roles.All]);
        }

        await MetadataMatrix.AssertNothingLeaksAsync(ConsoleProbes(), Outsiders(), organisation => sessions[organisation]);

        // The custodian's officer sees the package (so each outsider's nothing is the scope at work).
        var custodian = await _factory.ConsoleClientAsync(AuditFactory.Custodian, "custodian-officer", Roles.AuditRead);
        Assert.Contains(Reference, await custodian.GetStringAsync($"/disclosures/{_package}"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task No_route_tells_an_organisation_anything_of_a_disclosure_that_is_not_its_own()
    {
        await MetadataMatrix.AssertNothingLeaksAsync(Probes(), Outsiders(), organisation => _factory.ClientFor(organisation, [.. Roles.All]));

        // Each outsider's probing changed nothing: the referral still waits.
        var pending = await _factory.ClientFor("rocu-wm", Roles.DisclosuresApprove).GetStringAsync("/api/v1/referrals");
        Assert.Contains(_referral.ToString(), pending, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_permitted_recipient_reads_its_own_copy_and_the_custodian_the_whole_ledger()
    {
        var own = await _factory.ClientFor("safe-haven", Roles.AuditRead).GetStringAsync($"/api/v1/audit/entries?package={_package}");
        var custodian = await _factory.ClientFor(AuditFactory.Custodian, Roles.AuditRead).GetStringAsync($"/api/v1/audit/entries?package={_package}");

        var types = JsonNode.Parse(own)!["items"]!.AsArray().Select(i => (string)i!["type"]!).ToList();
        Assert.Equal(["release", "webhook-delivered"], types);
        Assert.Contains("border-force-mids", custodian, StringComparison.Ordinal);
    }
}
