using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using MassTransit;
using TOEX.Sharing.Contracts;
using TOEX.Sharing.Sealing;
using TOEX.Sharing.ServiceDefaults;
using TOEX.Sharing.Testing;

namespace TOEX.Sharing.Audit.Tests;

/// <summary>
/// Every route of the audit service in the authorisation matrix (<see cref="RouteMatrix"/>): a route added
/// without a rule here fails <see cref="Every_route_of_the_audit_service_has_a_rule"/>.
/// </summary>
public sealed class RouteMatrixTests : IDisposable
{
    private readonly AuditFactory _factory = new();

    public void Dispose() => _factory.Dispose();

    private static readonly Subject Jane = new()
    {
        Role = "victim", Name = "Jane Example", DateOfBirth = new DateOnly(2010, 3, 14), Identifiers = new Dictionary<string, string> { ["pnc"] = "10/123456X" },
    };

    /// <summary>A package of <paramref name="originator"/> (not the ledger's custodian) about Jane, submitted and decided; its id.</summary>
    private async Task<Guid> SubmittedByAsync(string originator)
    {
        var id = NewId.NextGuid();
        var blindIndex = SubjectBlindIndex.Open(_factory.BlindIndexKeyPath, create: true);
        await _factory.DeliverAsync(Events.Submitted(id, originator, Events.At, ["bcc-childrens"]) with { SubjectIndexes = blindIndex.Of([Jane]) });
        await _factory.DeliverAsync(new SharingDecided
        {
            PackageId = id,
            DecisionJws = new DecisionSigner(_factory.DecisionKeys.Current).Sign(Events.Decision(id, Events.At.AddMinutes(1), Events.Permit)),
        });
        return id;
    }

    /// <summary>A referral awaiting rocu-wm's IG officers (the package referred for bcc-childrens); its id.</summary>
    private async Task<Guid> ReferralAsync()
    {
        var packageId = NewId.NextGuid();
        await _factory.DeliverAsync(Events.Submitted(packageId, "rocu-wm", Events.At, ["bcc-childrens"]));
        await _factory.DeliverAsync(new SharingDecided
        {
            PackageId = packageId,
            DecisionJws = new DecisionSigner(_factory.DecisionKeys.Current).Sign(
                Events.Decision(packageId, Events.At.AddMinutes(1), Events.Refer("bcc-childrens", "ISA-BCC-003"))),
        });
        return DerivedId.From(packageId, "referral/bcc-childrens");
    }

    private static async Task<bool> Lacks(HttpResponseMessage response, Guid id, string field)
    {
        var page = await response.Content.ReadFromJsonAsync<JsonObject>();
        return page!["items"]!.AsArray().All(item => (string?)item![field] != id.ToString());
    }

    private static StringContent Justification() =>
        new(new JsonObject { ["justification"] = "Necessary to safeguard the child; conditions attached." }.ToJsonString(), Encoding.UTF8, "application/json");

    private IReadOnlyList<RouteRule> Rules() =>
    [
        new("GET /.well-known/jwks.json") { Anonymous = true },
        new("* /health") { Anonymous = true },
        new("* /alive") { Anonymous = true },
        new("GET /openapi/{documentName}.json")
        {
            Anonymous = true,
            Arrange = () => Task.FromResult(new RouteRequest("rocu-wm", OpenApiDescription.Path)),
        },
        new("GET /api/v1/audit/entries")
        {
            Role = Roles.AuditRead,
            Arrange = async () =>
            {
                var id = await SubmittedByAsync("wmp");
                return new RouteRequest("wmp", "/api/v1/audit/entries?limit=1000")
                {
                    Ownership = Ownership.Listing,
                    ShowsNothingOfOwner = response => Lacks(response, id, "packageId"),
                };
            },
        },
        Listing("GET /api/v1/audit/entries.csv", "/api/v1/audit/entries.csv?limit=1000"),
        Listing("GET /api/v1/audit/subjects", "/api/v1/audit/subjects?name=Jane%20Example&dateOfBirth=2010-03-14&limit=1000"),
        Listing("GET /api/v1/audit/subjects.csv", "/api/v1/audit/subjects.csv?pnc=10/123456X&limit=1000"),
        new("GET /api/v1/audit/tree-head")
        {
            Role = Roles.AuditRead,
            Arrange = () => Task.FromResult(new RouteRequest("wmp", "/api/v1/audit/tree-head") { Ownership = Ownership.None }),
        },
        new("GET /api/v1/audit/proofs/inclusion")
        {
            Role = Roles.AuditRead,
            Arrange = async () =>
            {
                await SubmittedByAsync("wmp");
                return new RouteRequest("wmp", "/api/v1/audit/proofs/inclusion?index=0") { Ownership = Ownership.None };
            },
        },
        new("GET /api/v1/audit/proofs/consistency")
        {
            Role = Roles.AuditRead,
            Arrange = async () =>
            {
                await SubmittedByAsync("wmp");
                return new RouteRequest("wmp", "/api/v1/audit/proofs/consistency?from=1") { Ownership = Ownership.None };
            },
        },
        new("GET /api/v1/audit/export")
        {
            Role = Roles.AuditRead,
            Arrange = async () =>
            {
                await SubmittedByAsync("wmp");
                return new RouteRequest(AuditFactory.Custodian, "/api/v1/audit/export") { Ownership = Ownership.ForbiddenToOthers };
            },
        },
        new("GET /api/v1/referrals/")
        {
            Role = Roles.DisclosuresApprove,
            Arrange = async () =>
            {
                var id = await ReferralAsync();
                return new RouteRequest("rocu-wm", "/api/v1/referrals")
                {
                    Ownership = Ownership.Listing,
                    ShowsNothingOfOwner = response => Lacks(response, id, "id"),
                };
            },
        },
        new("POST /api/v1/referrals/{id:guid}/approve")
        {
            Role = Roles.DisclosuresApprove,
            Arrange = async () => new RouteRequest("rocu-wm", $"/api/v1/referrals/{await ReferralAsync()}/approve", Justification),
        },
        new("GET /api/v1/agreements/")
        {
            Role = Roles.PoliciesRead,
            // bcc-childrens is a party to ISA-BCC-003 only; another organisation's register does not hold it.
            Arrange = () => Task.FromResult(new RouteRequest("bcc-childrens", "/api/v1/agreements")
            {
                Ownership = Ownership.Listing,
                ShowsNothingOfOwner = async response => !(await response.Content.ReadAsStringAsync()).Contains("ISA-BCC-003", StringComparison.Ordinal),
            }),
        },
        new("POST /api/v1/referrals/{id:guid}/reject")
        {
            Role = Roles.DisclosuresApprove,
            Arrange = async () => new RouteRequest("rocu-wm", $"/api/v1/referrals/{await ReferralAsync()}/reject", Justification),
        },
    ];

    /// <summary>An audit search (JSON or CSV) of wmp's package about Jane: another organisation finds nothing of it.</summary>
    private RouteRule Listing(string route, string path) => new(route)
    {
        Role = Roles.AuditRead,
        Arrange = async () =>
        {
            var id = await SubmittedByAsync("wmp");
            return new RouteRequest("wmp", path)
            {
                Ownership = Ownership.Listing,
                ShowsNothingOfOwner = async response => !(await response.Content.ReadAsStringAsync()).Contains(id.ToString(), StringComparison.Ordinal),
            };
        },
    };

    [Fact]
    public void Every_route_of_the_audit_service_has_a_rule()
    {
        _ = _factory.Server;
        // The console's pages are cookie-authenticated HTML: ConsolePagesTests covers them (sign-in redirect, other organisations).
        RouteMatrix.AssertCovered(_factory.Services, [.. Rules(), .. ConsolePagesTests.Pages.Select(page => new RouteRule(page.Route))]);
    }

    [Fact]
    public async Task Every_route_of_the_audit_service_checks_its_role_and_ownership()
    {
        _ = _factory.Server;
        await RouteMatrix.AssertHoldsAsync(_factory.Services, Rules(), Roles.All,
            (organisation, roles) => _factory.ClientFor(organisation, roles), _factory.CreateClient);
    }

    [Fact]
    public async Task Every_api_route_of_the_audit_service_refuses_an_unknown_query_parameter_naming_it()
    {
        _ = _factory.Server;
        var failures = new List<string>();
        foreach (var rule in Rules().Where(r => r.Route.Contains(" /api/", StringComparison.Ordinal)))
        {
            var request = await rule.Arrange!();
            var method = new HttpMethod(rule.Route[..rule.Route.IndexOf(' ', StringComparison.Ordinal)]);
            var path = request.Path + (request.Path.Contains('?', StringComparison.Ordinal) ? "&" : "?") + "packge=1";
            using var message = new HttpRequestMessage(method, path) { Content = request.Body?.Invoke() };
            using var response = await _factory.ClientFor(request.Owner, [.. Roles.All]).SendAsync(message);
            var problem = await response.Content.ReadFromJsonAsync<JsonObject>();
            if (response.StatusCode != System.Net.HttpStatusCode.BadRequest || problem?["errors"]?["packge"] is null)
            {
                failures.Add($"{rule.Route}: {(int)response.StatusCode} {problem}");
            }
        }
        Assert.True(failures.Count == 0, string.Join(Environment.NewLine, failures));
    }

    [Fact]
    public async Task An_organisation_reads_what_it_originated_and_its_own_received_copy_and_the_custodian_reads_all()
    {
        var wmpPackage = await SubmittedByAsync("wmp");
        var nca = NewId.NextGuid();
        await _factory.DeliverAsync(Events.Submitted(nca, "nca", Events.At, ["staffs"]));

        async Task<List<(string Type, string? Package)>> Read(string organisation)
        {
            var page = await _factory.ClientFor(organisation, Roles.AuditRead).GetFromJsonAsync<JsonObject>("/api/v1/audit/entries?limit=1000");
            // Each search is itself recorded (a consultation by its caller); these are counted apart below.
            return [.. page!["items"]!.AsArray().Where(i => (string)i!["type"]! != "consultation").Select(i => ((string)i!["type"]!, (string?)i["packageId"]))];
        }

        // wmp originated its package: its submission and the decision about it (which names no originator).
        Assert.Equal([("submission", wmpPackage.ToString()), ("decision", wmpPackage.ToString())], await Read("wmp"));
        // bcc-childrens was permitted wmp's package but has not received it yet: nothing, not even its own decision.
        Assert.Empty(await Read("bcc-childrens"));
        // staffs is named as a recipient of nca's package, and received nothing.
        Assert.Empty(await Read("staffs"));
        Assert.Equal(3, (await Read(AuditFactory.Custodian)).Count);

        // Once bcc-childrens has its copy, it reads the entries of that copy only: never the submission (which names
        // every recipient) or the decision.
        var released = Events.Released(wmpPackage) with { Originator = "wmp" };
        await _factory.DeliverAsync(released);
        Assert.Empty(await Read("bcc-childrens"));
        await _factory.DeliverAsync(new WebhookDelivered
        {
            WebhookId = NewId.NextGuid(), PackageId = wmpPackage, Recipient = "bcc-childrens", Kind = "package", Attempt = 1, StatusCode = 200,
            At = Events.At.AddMinutes(3),
        });
        Assert.Equal([("release", wmpPackage.ToString()), ("webhook-delivered", wmpPackage.ToString())], await Read("bcc-childrens"));
        var page = await _factory.ClientFor("bcc-childrens", Roles.AuditRead).GetFromJsonAsync<JsonObject>("/api/v1/audit/entries?type=release");
        Assert.All(page!["items"]!.AsArray(), i => Assert.Equal(["bcc-childrens"], i!["recipients"]!.AsArray().Select(r => (string)r!)));

        // An organisation sees its own searches recorded, never another's.
        var consultations = await _factory.ClientFor("wmp", Roles.AuditRead).GetFromJsonAsync<JsonObject>("/api/v1/audit/entries?type=consultation&limit=1000");
        var actors = consultations!["items"]!.AsArray().Select(i => (string)i!["actor"]!).ToList();
        Assert.NotEmpty(actors);
        Assert.All(actors, actor => Assert.StartsWith("wmp/", actor, StringComparison.Ordinal));
    }
}
