using System.Net.Http.Json;
using System.Text.Json.Nodes;
using TOEX.Sharing.Contracts;
using TOEX.Sharing.Sealing;
using TOEX.Sharing.ServiceDefaults;
using TOEX.Sharing.Testing;

namespace TOEX.Sharing.Gateway.Tests;

/// <summary>
/// Every route of the gateway in the authorisation matrix (<see cref="RouteMatrix"/>): a route added without a
/// rule here fails <see cref="Every_route_of_the_gateway_has_a_rule"/>.
/// </summary>
public sealed class RouteMatrixTests : IAsyncLifetime
{
    private readonly GatewayFactory _factory = new();
    private LocalKeyRing _decisionKeys = null!;
    private int _references;

    public Task InitializeAsync()
    {
        _decisionKeys = _factory.TrustDecisionKeys();
        _factory.RegisterPartnerKey("bcc-childrens");
        return Task.CompletedTask;
    }

    public Task DisposeAsync()
    {
        _decisionKeys.Dispose();
        _factory.Dispose();
        return Task.CompletedTask;
    }

    /// <summary>DOMAIN.md's example under a reference of its own (each arrangement is a new submission).</summary>
    private JsonObject NewPackage()
    {
        var package = Packages.Example();
        package["reference"] = $"ROCUWM-2026-9{Interlocked.Increment(ref _references):D5}";
        return package;
    }

    /// <summary>A package of rocu-wm released to bcc-childrens (the example's permit): on bcc-childrens' feed only.</summary>
    private async Task<Guid> ReleasedToBccAsync()
    {
        var (id, submitted) = await _factory.SubmitAsync(NewPackage());
        await _factory.DeliverAsync(new SharingDecided { PackageId = id, DecisionJws = new DecisionSigner(_decisionKeys.Current).Sign(GatewayFactory.Decide(submitted)) });
        return id;
    }

    private static async Task<bool> FeedLacks(HttpResponseMessage response, Guid id)
    {
        var page = await response.Content.ReadFromJsonAsync<JsonObject>();
        return page!["items"]!.AsArray().All(item => (string)item!["packageId"]! != id.ToString());
    }

    private IReadOnlyList<RouteRule> Rules() =>
    [
        new("GET /.well-known/jwks.json") { Anonymous = true },
        new("GET /.well-known/webhook-jwks.json") { Anonymous = true },
        new("* /health") { Anonymous = true },
        new("* /alive") { Anonymous = true },
        new("GET /openapi/{documentName}.json")
        {
            Anonymous = true,
            Arrange = () => Task.FromResult(new RouteRequest("rocu-wm", OpenApiDescription.Path)),
        },
        new("POST /api/v1/packages")
        {
            Role = Roles.PackagesSubmit,
            Arrange = () => Task.FromResult(new RouteRequest("rocu-wm", "/api/v1/packages", () => Packages.Json(NewPackage())) { Ownership = Ownership.ForbiddenToOthers }),
        },
        new("GET /api/v1/packages/{id:guid}")
        {
            Role = Roles.PackagesSubmit,
            Arrange = async () => new RouteRequest("rocu-wm", $"/api/v1/packages/{(await _factory.SubmitAsync(NewPackage())).Id}"),
        },
        new("POST /api/v1/simulations")
        {
            Role = Roles.PackagesSubmit,
            Arrange = () => Task.FromResult(new RouteRequest("rocu-wm", "/api/v1/simulations", () => Packages.Json(NewPackage())) { Ownership = Ownership.ForbiddenToOthers }),
        },
        new("GET /api/v1/feed/")
        {
            Role = Roles.FeedRead,
            Arrange = async () =>
            {
                var id = await ReleasedToBccAsync();
                return new RouteRequest("bcc-childrens", "/api/v1/feed?limit=500")
                {
                    Ownership = Ownership.Listing,
                    ShowsNothingOfOwner = response => FeedLacks(response, id),
                };
            },
        },
        new("GET /api/v1/releases/")
        {
            Role = Roles.AuditRead,
            Arrange = () => Task.FromResult(new RouteRequest(GatewayFactory.Custodian, "/api/v1/releases") { Ownership = Ownership.ForbiddenToOthers }),
        },
        new("POST /api/v1/feed/{packageId:guid}/ack")
        {
            Role = Roles.FeedRead,
            Arrange = async () => new RouteRequest("bcc-childrens", $"/api/v1/feed/{await ReleasedToBccAsync()}/ack"),
        },
        new("POST /api/v1/packages/{id:guid}/recall")
        {
            Role = Roles.PackagesSubmit,
            Arrange = async () => new RouteRequest("rocu-wm", $"/api/v1/packages/{await ReleasedToBccAsync()}/recall",
                () => Packages.Json(new JsonObject { ["reason"] = "The intelligence was wrong." })),
        },
        // The broker's operators see and retry every partner's pushes: the role is the whole check, and only an operator
        // organisation keeps it (the matrix's other organisation, given every role, is refused: 403).
        new("GET /api/v1/deliveries")
        {
            Role = Roles.DeliveriesOperate,
            Arrange = () => Task.FromResult(new RouteRequest(GatewayFactory.Operator, "/api/v1/deliveries") { Ownership = Ownership.ForbiddenToOthers }),
        },
        new("POST /api/v1/packages/{id:guid}/deliveries/{partner}/retry")
        {
            Role = Roles.DeliveriesOperate,
            Arrange = async () => new RouteRequest(GatewayFactory.Operator, $"/api/v1/packages/{await ReleasedToBccAsync()}/deliveries/bcc-childrens/retry")
            {
                Ownership = Ownership.ForbiddenToOthers,
            },
        },
        // A partner's own keys: its own organisation only (anyone else: 404). A change without a proof is refused 400
        // once through the role and ownership checks, so the matrix leaves the registry as it was.
        new("GET /api/v1/partners/{partner}/keys/")
        {
            Role = Roles.FeedRead,
            Arrange = () => Task.FromResult(new RouteRequest("bcc-childrens", "/api/v1/partners/bcc-childrens/keys")),
        },
        new("POST /api/v1/partners/{partner}/keys/challenge")
        {
            Role = Roles.FeedRead,
            Arrange = () => Task.FromResult(new RouteRequest("bcc-childrens", "/api/v1/partners/bcc-childrens/keys/challenge",
                () => Packages.Json(new JsonObject { ["action"] = "register", ["key"] = _factory.NewPartnerKey("bcc-childrens").PublicJwk }))),
        },
        new("POST /api/v1/partners/{partner}/keys/")
        {
            Role = Roles.FeedRead,
            Arrange = () => Task.FromResult(new RouteRequest("bcc-childrens", "/api/v1/partners/bcc-childrens/keys",
                () => Packages.Json(new JsonObject { ["key"] = _factory.NewPartnerKey("bcc-childrens").PublicJwk }))),
        },
        new("POST /api/v1/partners/{partner}/keys/{keyId}/revoke")
        {
            Role = Roles.FeedRead,
            Arrange = () => Task.FromResult(new RouteRequest("bcc-childrens", "/api/v1/partners/bcc-childrens/keys/some-key/revoke",
                () => Packages.Json(new JsonObject()))),
        },
        // The operators' view and changes of any partner's keys (operator organisations only: anyone else 403).
        new("GET /api/v1/operations/partners/{partner}/keys/")
        {
            Role = Roles.DeliveriesOperate,
            Arrange = () => Task.FromResult(new RouteRequest(GatewayFactory.Operator, "/api/v1/operations/partners/bcc-childrens/keys")
            {
                Ownership = Ownership.ForbiddenToOthers,
            }),
        },
        new("POST /api/v1/operations/partners/{partner}/keys/")
        {
            Role = Roles.DeliveriesOperate,
            Arrange = () => Task.FromResult(new RouteRequest(GatewayFactory.Operator, "/api/v1/operations/partners/bcc-childrens/keys",
                () => Packages.Json(new JsonObject { ["key"] = _factory.NewPartnerKey("bcc-childrens").PublicJwk })) { Ownership = Ownership.ForbiddenToOthers }),
        },
        new("POST /api/v1/operations/partners/{partner}/keys/{keyId}/revoke")
        {
            Role = Roles.DeliveriesOperate,
            Arrange = () => Task.FromResult(new RouteRequest(GatewayFactory.Operator, "/api/v1/operations/partners/bcc-childrens/keys/some-key/revoke",
                () => Packages.Json(new JsonObject())) { Ownership = Ownership.ForbiddenToOthers }),
        },
    ];

    [Fact]
    public void Every_route_of_the_gateway_has_a_rule()
    {
        _ = _factory.Server;
        RouteMatrix.AssertCovered(_factory.Services, Rules());
    }

    [Fact]
    public async Task Every_route_of_the_gateway_checks_its_role_and_ownership()
    {
        _ = _factory.Server;
        await RouteMatrix.AssertHoldsAsync(_factory.Services, Rules(), Roles.All,
            (organisation, roles) => _factory.ClientFor(organisation, roles), _factory.CreateClient);
    }
}
