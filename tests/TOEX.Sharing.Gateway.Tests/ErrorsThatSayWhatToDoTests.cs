using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using TOEX.Sharing.Contracts;
using TOEX.Sharing.Sealing;
using TOEX.Sharing.ServiceDefaults;

namespace TOEX.Sharing.Gateway.Tests;

/// <summary>
/// Refusals say what to do: a 403 names the role the route needs, or the field that must change; and an obligation
/// is written with only the member its type carries, here as in the CLI and the decision.
/// </summary>
public sealed class ErrorsThatSayWhatToDoTests : IDisposable
{
    private readonly GatewayFactory _factory = new();

    public void Dispose() => _factory.Dispose();

    private static async Task<JsonObject> ProblemAsync(HttpResponseMessage response, HttpStatusCode status)
    {
        Assert.Equal(status, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        return (await response.Content.ReadFromJsonAsync<JsonObject>())!;
    }

    [Theory]
    [InlineData("POST", "/api/v1/packages", Roles.PackagesSubmit)]
    [InlineData("GET", "/api/v1/feed", Roles.FeedRead)]
    [InlineData("GET", "/api/v1/releases", Roles.AuditRead)]
    [InlineData("GET", "/api/v1/deliveries", Roles.DeliveriesOperate)]
    public async Task A_caller_without_the_role_is_told_which_role_the_route_needs(string method, string path, string role)
    {
        var others = Roles.All.Where(r => r != role).ToArray();
        using var request = new HttpRequestMessage(new HttpMethod(method), path)
        {
            Content = method == "POST" ? Packages.Json(Packages.Example()) : null,
        };

        var problem = await ProblemAsync(await _factory.ClientFor("rocu-wm", others).SendAsync(request), HttpStatusCode.Forbidden);

        Assert.Equal("https://toex.sharing/problems/missing-role", (string?)problem["type"]);
        Assert.Equal(role, (string?)problem["role"]);
        Assert.Contains(role, (string?)problem["title"], StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_submission_for_another_originator_names_the_originator_field()
    {
        var problem = await ProblemAsync(
            await _factory.ClientFor("wmp", Roles.PackagesSubmit).PostAsync("/api/v1/packages", Packages.Json(Packages.Example())),
            HttpStatusCode.Forbidden);

        Assert.Equal("https://toex.sharing/problems/originator-mismatch", (string?)problem["type"]);
        var originator = problem["errors"]!["originator"]!.AsArray().Select(m => (string?)m).Single();
        Assert.Contains("'wmp'", originator, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Obligations_in_the_package_status_carry_only_their_own_members()
    {
        using var decisionKeys = _factory.TrustDecisionKeys();
        _factory.RegisterPartnerKey("bcc-childrens");
        var (id, submitted) = await _factory.SubmitAsync(Packages.Example());
        await _factory.DeliverAsync(new SharingDecided { PackageId = id, DecisionJws = new DecisionSigner(decisionKeys.Current).Sign(GatewayFactory.Decide(submitted)) });

        var status = await _factory.ClientFor("rocu-wm", Roles.PackagesSubmit).GetStringAsync($"/api/v1/packages/{id}");

        var obligations = JsonNode.Parse(status)!["recipients"]!.AsArray().SelectMany(r => r!["obligations"]!.AsArray()).Select(o => o!.AsObject()).ToList();
        Assert.NotEmpty(obligations);
        Assert.All(obligations, o => Assert.All(o, member => Assert.NotNull(member.Value)));
        Assert.Contains(obligations, o => (string?)o["type"] == "sanitise" && o["fields"] is JsonArray);
        Assert.Contains(obligations, o => (string?)o["type"] == "acknowledge" && o.Count == 1);
    }
    [Fact]
    public void An_obligation_is_written_alike_by_the_web_api_and_by_the_projects_own_json()
    {
        Obligation[] obligations = [new() { Type = "acknowledge" }, new() { Type = "retain-until", Date = new DateOnly(2027, 11, 25) }];

        var web = System.Text.Json.JsonSerializer.Serialize(obligations, System.Text.Json.JsonSerializerOptions.Web);

        Assert.Equal("""[{"type":"acknowledge"},{"type":"retain-until","date":"2027-11-25"}]""", web);
        Assert.Equal(web, ToexJson.Serialize(obligations));
    }
}
