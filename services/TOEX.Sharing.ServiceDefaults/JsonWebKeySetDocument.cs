using System.Text.Json.Nodes;

namespace TOEX.Sharing.ServiceDefaults;

/// <summary>A JWK Set (RFC 7517 section 5) as the services publish it: its shape in the OpenAPI documents.</summary>
/// <param name="Keys">Public keys only, each with its <c>kid</c>, current and retired.</param>
public sealed record JsonWebKeySetDocument(IReadOnlyList<JsonObject> Keys)
{
    public const string MediaType = "application/jwk-set+json";
}
