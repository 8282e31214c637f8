using TOEX.Sharing.ServiceDefaults;
using TOEX.Sharing.Testing;

namespace TOEX.Sharing.Gateway.Tests;

/// <summary>The gateway's OpenAPI 3.1 description, served anonymously, describes every route it maps (<see cref="OpenApiCoverage"/>).</summary>
public sealed class OpenApiTests : IDisposable
{
    private readonly GatewayFactory _factory = new();

    public void Dispose() => _factory.Dispose();

    [Fact]
    public async Task The_description_is_served_to_anyone_and_covers_every_route_with_its_role_shapes_and_problems()
    {
        var document = await OpenApiCoverage.AssertServedAndDescribesAsync(_factory.CreateClient(), OpenApiDescription.Path, _factory.Services);

        var submit = document["paths"]!["/api/v1/packages"]!["post"]!;
        Assert.NotNull(submit["requestBody"]!["content"]!["application/json"]!["schema"]);
        Assert.Equal("Packages.Submit", (string)submit["security"]![0]![OpenApiDescription.BearerScheme]![0]!);
        Assert.Equal("http", (string)document["components"]!["securitySchemes"]![OpenApiDescription.BearerScheme]!["type"]!);
    }
}
