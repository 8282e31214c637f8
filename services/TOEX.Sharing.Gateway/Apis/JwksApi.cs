using TOEX.Sharing.Sealing;

namespace TOEX.Sharing.Gateway.Apis;

/// <summary>The broker's public signing keys, current and retired: what a partner verifies a copy with.</summary>
public static class JwksApi
{
    public static IEndpointConventionBuilder MapJwksApi(this IEndpointRouteBuilder app) =>
        app.MapGet("/.well-known/jwks.json", (IKeyRing keys) =>
            TypedResults.Text(keys.PublicJwks(), "application/jwk-set+json")).AllowAnonymous();
}
