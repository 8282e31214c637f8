using TOEX.Sharing.ServiceDefaults;
using TOEX.Sharing.Testing;

namespace TOEX.Sharing.Audit.Tests;

/// <summary>The audit service's OpenAPI 3.1 description, served anonymously, describes every route it maps (<see cref="OpenApiCoverage"/>).</summary>
public sealed class OpenApiTests : IDisposable
{
    private readonly AuditFactory _factory = new();

    public void Dispose() => _factory.Dispose();

    [Fact]
    public async Task The_description_is_served_to_anyone_and_covers_every_route_with_its_role_shapes_and_problems()
    {
        var document = await OpenApiCoverage.AssertServedAndDescribesAsync(_factory.CreateClient(), OpenApiDescription.Path, _factory.Services);

        var approve = document["paths"]!["/api/v1/referrals/{id}/approve"]!["post"]!;
        Assert.Equal("Disclosures.Approve", (string)approve["security"]![0]![OpenApiDescription.BearerScheme]![0]!);
        Assert.NotNull(document["paths"]!["/api/v1/audit/entries"]!["get"]!["responses"]!["200"]!["content"]!["text/csv"]);
    }
}
