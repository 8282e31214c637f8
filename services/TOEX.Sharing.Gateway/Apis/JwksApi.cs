using TOEX.Sharing.Sealing;
using TOEX.Sharing.ServiceDefaults;

namespace TOEX.Sharing.Gateway.Apis;

/// <summary>
/// The broker's public keys: its package signing keys, current and retired (what a partner verifies a copy with),
/// and its Ed25519 webhook signing key (what a push partner verifies a <c>webhook-signature</c> with).
/// </summary>
public static class JwksApi
{
    public static IEndpointRouteBuilder MapJwksApi(this IEndpointRouteBuilder app)
    {
        app.MapGet("/.well-known/jwks.json", (IKeyRing keys) =>
            TypedResults.Text(keys.PublicJwks(), JsonWebKeySetDocument.MediaType)).AllowAnonymous().Produces<JsonWebKeySetDocument>(contentType: JsonWebKeySetDocument.MediaType);
        app.MapGet("/.well-known/webhook-jwks.json", (WebhookSigningKey key) =>
            TypedResults.Text(key.PublicJwks(), JsonWebKeySetDocument.MediaType)).AllowAnonymous().Produces<JsonWebKeySetDocument>(contentType: JsonWebKeySetDocument.MediaType);
        return app;
    }
}
