using TOEX.Sharing.Testing;

namespace TOEX.Sharing.Gateway.Tests;

/// <summary>docs/api.md documents every route the gateway maps, and no route it does not (<see cref="ApiReference"/>).</summary>
public sealed class ApiReferenceTests : IDisposable
{
    private readonly GatewayFactory _factory = new();

    public void Dispose() => _factory.Dispose();

    [Fact]
    public void Every_route_of_the_gateway_has_its_section_in_the_api_reference()
    {
        _ = _factory.Server;
        ApiReference.AssertDocumented(_factory.Services, "Gateway", "gateway");
    }

    [Fact]
    public void A_route_without_its_section_is_named_with_the_line_to_add()
    {
        const string reference = """
            # API reference
            ## Gateway
            ### `GET /api/v1/feed`
            ### `POST /api/v1/retired`
            ## Audit service
            ### `POST /api/v1/packages/{id}/recall`
            """;

        var problems = ApiReference.Problems(
            ["GET /api/v1/feed/", "POST /api/v1/packages/{id:guid}/recall", "* /health"], reference, "Gateway", "gateway");

        Assert.Equal(3, problems.Count);
        Assert.Contains("    ### `GET /health`", problems[0], StringComparison.Ordinal);
        Assert.Contains("    ### `POST /api/v1/packages/{id}/recall`", problems[1], StringComparison.Ordinal);
        Assert.Contains("under '## Gateway'", problems[1], StringComparison.Ordinal);
        Assert.Contains("'### `POST /api/v1/retired`'", problems[2], StringComparison.Ordinal);
    }
}
