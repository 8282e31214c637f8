using TOEX.Sharing.Testing;

namespace TOEX.Sharing.Audit.Tests;

/// <summary>docs/api.md documents every route the audit service maps, and no route it does not (<see cref="ApiReference"/>).</summary>
public sealed class ApiReferenceTests : IDisposable
{
    private readonly AuditFactory _factory = new();

    public void Dispose() => _factory.Dispose();

    [Fact]
    public void Every_route_of_the_audit_service_has_its_section_in_the_api_reference()
    {
        _ = _factory.Server;
        ApiReference.AssertDocumented(_factory.Services, "Audit service", "audit service", pagesSection: "IG console");
    }
}
