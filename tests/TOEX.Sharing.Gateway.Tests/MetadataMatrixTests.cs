using System.Net.Http.Json;
using System.Text.Json.Nodes;
using TOEX.Sharing.Contracts;
using TOEX.Sharing.Sealing;
using TOEX.Sharing.ServiceDefaults;
using TOEX.Sharing.Testing;

namespace TOEX.Sharing.Gateway.Tests;

/// <summary>
/// The metadata matrix of the gateway (issue 11): rocu-wm's ROCUWM-2026-000125 released to safe-haven alone (which read
/// its feed), bsol-nhs-safeguarding and border-force-mids denied, acme-logistics unknown; ROCUWM-2026-000126 referred
/// for bcc-childrens. Every route is called by every organisation with no business with either, with every role its
/// token can carry: nothing of them comes back.
/// </summary>
public sealed class MetadataMatrixTests : IAsyncLifetime
{
    private readonly GatewayFactory _factory = new();
    private LocalKeyRing _decisionKeys = null!;
    private Guid _package;
    private Guid _referred;
    private Guid _referral;

    public async Task InitializeAsync()
    {
        _decisionKeys = _factory.TrustDecisionKeys();
        _factory.RegisterPartnerKey("safe-haven");
        _factory.RegisterPartnerKey("bcc-childrens");
        _package = await SubmitAndDecideAsync("rocuwm-2026-000125.json");
        _referred = await SubmitAndDecideAsync("rocuwm-2026-000126.json");
        _referral = DerivedId.From(_referred, "referral/bcc-childrens");
        // safe-haven has its copy: it read its feed.
        var feed = await _factory.ClientFor("safe-haven", Roles.FeedRead).GetFromJsonAsync<JsonObject>("/api/v1/feed");
        Assert.Single(feed!["items"]!.AsArray());
    }

    public Task DisposeAsync()
    {
        _decisionKeys.Dispose();
        _factory.Dispose();
        return Task.CompletedTask;
    }

    private async Task<Guid> SubmitAndDecideAsync(string file)
    {
        var (id, submitted) = await _factory.SubmitAsync(Packages.Load(file));
        await _factory.DeliverAsync(new SharingDecided { PackageId = id, DecisionJws = new DecisionSigner(_decisionKeys.Current).Sign(GatewayFactory.Decide(submitted)) });
        return id;
    }

    private string[] Everything() =>
    [
        _package.ToString(), "ROCUWM-2026-000125", _referred.ToString(), "ROCUWM-2026-000126", _referral.ToString(),
        "safe-haven", "bsol-nhs-safeguarding", "border-force-mids", "acme-logistics", "rocu-wm-tester",
    ];

    private IReadOnlyList<Outsider> Outsiders() =>
    [
        new("border-force-mids", "a recipient the policy denied", Everything()),
        new("bsol-nhs-safeguarding", "a recipient the policy denied", Everything()),
        new("bcc-childrens", "referred, not yet approved", Everything()),
        new("staffs", "an unrelated partner", Everything()),
        new("safe-haven", "the permitted recipient, about the others", [
            "bsol-nhs-safeguarding", "border-force-mids", "acme-logistics", "rocu-wm-tester", _referred.ToString(), "ROCUWM-2026-000126", _referral.ToString()]),
    ];

    private static string[] KeyPaths() => ["/api/v1/partners/safe-haven/keys", "/api/v1/partners/bcc-childrens/keys"];

    private static string OperatorPath(string path) => path.Replace("/api/v1/", "/api/v1/operations/", StringComparison.Ordinal);

    private static JsonObject Reason() => new() { ["reason"] = "Testing what I can learn." };

    private IReadOnlyList<MetadataProbe> Probes()
    {
        Task<IReadOnlyList<ProbeRequest>> Send(params ProbeRequest[] requests) => Task.FromResult<IReadOnlyList<ProbeRequest>>(requests);
        ProbeRequest Post(string path, JsonObject? body = null) => new(HttpMethod.Post, path, body is null ? null : () => Packages.Json(body));
        IEnumerable<Guid> Both() => [_package, _referred];
        return
        [
            new("GET /.well-known/jwks.json") { HoldsNoPackageData = "the broker's public signing keys" },
            new("GET /.well-known/webhook-jwks.json") { HoldsNoPackageData = "the broker's public webhook key" },
            new("GET /openapi/{documentName}.json") { HoldsNoPackageData = "the API's description" },
            new("* /health") { HoldsNoPackageData = "readiness" },
            new("* /alive") { HoldsNoPackageData = "liveness" },
            new("POST /api/v1/packages") { HoldsNoPackageData = "the caller's own submission, under its own organisation (another's originator is refused)" },
            new("POST /api/v1/simulations") { HoldsNoPackageData = "a decision on the body the caller sends; no side effect" },
            new("GET /api/v1/packages/{id:guid}") { Requests = () => Task.FromResult(MetadataMatrix.Get([.. Both().Select(id => $"/api/v1/packages/{id}")])) },
            new("POST /api/v1/packages/{id:guid}/recall") { Requests = () => Send([.. Both().Select(id => Post($"/api/v1/packages/{id}/recall", Reason()))]) },
            new("GET /api/v1/feed/") { Requests = () => Task.FromResult(MetadataMatrix.Get("/api/v1/feed?limit=500", "/api/v1/feed?after=1")) },
            new("POST /api/v1/feed/{packageId:guid}/ack")
            {
                Requests = () => Send([.. Both().SelectMany(id => new[] { Post($"/api/v1/feed/{id}/ack"), Post($"/api/v1/feed/{id}/ack?kind=recall") })]),
            },
            new("GET /api/v1/releases/") { Requests = () => Task.FromResult(MetadataMatrix.Get("/api/v1/releases", "/api/v1/releases?after=0&limit=1000")) },
            new("GET /api/v1/deliveries")
            {
                Requests = () => Task.FromResult(MetadataMatrix.Get([.. new[] { "pending", "sending", "delivered", "dead-lettered", "cancelled" }
                    .Select(state => $"/api/v1/deliveries?state={state}")])),
            },
            new("POST /api/v1/packages/{id:guid}/deliveries/{partner}/retry")
            {
                Requests = () => Send(
                    Post($"/api/v1/packages/{_package}/deliveries/safe-haven/retry", Reason()),
                    Post($"/api/v1/packages/{_package}/deliveries/border-force-mids/retry", Reason()),
                    Post($"/api/v1/packages/{_referred}/deliveries/bcc-childrens/retry", Reason())),
            },
            // Partners' keys: another's are 404 (a partner) or 403 (not an operator); safe-haven's and bcc-childrens' own hold
            // only their own keys (border-force-mids' own would echo its name, which is in the list of what must not leak).
            new("GET /api/v1/partners/{partner}/keys/") { Requests = () => Task.FromResult(MetadataMatrix.Get(KeyPaths())) },
            new("POST /api/v1/partners/{partner}/keys/challenge")
            {
                Requests = () => Send([.. KeyPaths().Select(path => Post($"{path}/challenge", new JsonObject { ["action"] = "revoke", ["keyId"] = "x" }))]),
            },
            new("POST /api/v1/partners/{partner}/keys/") { Requests = () => Send([.. KeyPaths().Select(path => Post(path, new JsonObject()))]) },
            new("POST /api/v1/partners/{partner}/keys/{keyId}/revoke") { Requests = () => Send([.. KeyPaths().Select(path => Post($"{path}/x/revoke", Reason()))]) },
            new("GET /api/v1/operations/partners/{partner}/keys/")
            {
                Requests = () => Task.FromResult(MetadataMatrix.Get([.. KeyPaths().Select(OperatorPath)])),
            },
            new("POST /api/v1/operations/partners/{partner}/keys/")
            {
                Requests = () => Send([.. KeyPaths().Select(path => Post(OperatorPath(path), Reason()))]),
            },
            new("POST /api/v1/operations/partners/{partner}/keys/{keyId}/revoke")
            {
                Requests = () => Send([.. KeyPaths().Select(path => Post($"{OperatorPath(path)}/x/revoke", Reason()))]),
            },
        ];
    }

    [Fact]
    public void Every_route_of_the_gateway_is_in_the_metadata_matrix()
    {
        _ = _factory.Server;
        MetadataMatrix.AssertCovered(_factory.Services, Probes());
    }

    [Fact]
    public async Task No_route_tells_an_organisation_anything_of_a_disclosure_that_is_not_its_own()
    {
        await MetadataMatrix.AssertNothingLeaksAsync(Probes(), Outsiders(), organisation => _factory.ClientFor(organisation, [.. Roles.All]));

        // Nobody's probing recalled anything or moved the referral (safe-haven acknowledging its own copy is its right).
        var status = await _factory.ClientFor("rocu-wm", Roles.PackagesSubmit).GetFromJsonAsync<JsonObject>($"/api/v1/packages/{_package}");
        Assert.Null(status!["recall"]);
        var referred = await _factory.ClientFor("rocu-wm", Roles.PackagesSubmit).GetFromJsonAsync<JsonObject>($"/api/v1/packages/{_referred}");
        Assert.Equal("awaiting-referral", (string)referred!["recipients"]![0]!["delivery"]!["state"]!);
    }
}
