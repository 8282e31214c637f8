using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using TOEX.Sharing.ServiceDefaults;

namespace TOEX.Sharing.Audit.Tests;

/// <summary><c>GET /api/v1/agreements</c>: the register of the shipped policy set, with status and review warnings.</summary>
public sealed class AgreementsApiTests : IDisposable
{
    private readonly AuditFactory _factory = new();

    public void Dispose() => _factory.Dispose();

    [Fact]
    public async Task Lists_every_agreement_to_a_custodian_with_its_status_and_warnings_on_the_day_asked()
    {
        var register = await _factory.ClientFor(AuditFactory.Custodian, Roles.PoliciesRead).GetFromJsonAsync<JsonObject>("/api/v1/agreements?at=2026-05-15");

        var items = register!["items"]!.AsArray().ToDictionary(i => (string)i!["id"]!, i => i!.AsObject());
        Assert.Equal(["DSA-BF-005", "DSA-NCA-002", "DSA-POLICE-001", "ISA-BCC-003", "ISA-NHS-004", "ISA-SH-006"], items.Keys.Order());
        Assert.StartsWith("sha256:", (string)register["policyVersion"]!, StringComparison.Ordinal);
        Assert.Equal(["expires-soon", "review-overdue"], items["ISA-NHS-004"]["warnings"]!.AsArray().Select(w => (string)w!["code"]!));
        Assert.Equal(["review-due-soon"], items["DSA-BF-005"]["warnings"]!.AsArray().Select(w => (string)w!["code"]!));
        Assert.Empty(items["DSA-POLICE-001"]["warnings"]!.AsArray());
        Assert.Equal(("suspended", false), ((string)items["DSA-BF-005"]["status"]!, (bool)items["DSA-BF-005"]["inForce"]!));
        Assert.Equal(("active", true), ((string)items["ISA-NHS-004"]["status"]!, (bool)items["ISA-NHS-004"]["inForce"]!));
    }

    [Fact]
    public async Task Shows_another_organisation_only_the_agreements_it_is_a_party_to()
    {
        var register = await _factory.ClientFor("safe-haven", Roles.PoliciesRead).GetFromJsonAsync<JsonObject>("/api/v1/agreements");

        Assert.Equal(["ISA-SH-006"], register!["items"]!.AsArray().Select(i => (string)i!["id"]!));
    }

    [Fact]
    public async Task Answers_400_naming_a_malformed_day()
    {
        var response = await _factory.ClientFor(AuditFactory.Custodian, Roles.PoliciesRead).GetAsync("/api/v1/agreements?at=15/05/2026");

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.NotNull((await response.Content.ReadFromJsonAsync<JsonObject>())!["errors"]!["at"]);
    }
}
