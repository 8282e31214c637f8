using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace TOEX.Sharing.Testing;

/// <summary>
/// An OpenID Connect issuer the tests hold the keys of: a Kestrel app on loopback serving discovery and
/// a JWKS (one RSA and one EC P-256 key), and a minter that signs any header and payload, including
/// the malformed and hostile ones an attacker would send. Its JWKS can also be served by an attacker
/// (<see cref="PublishedKeys"/> false) to prove that <c>jku</c>/<c>x5u</c> are never followed.
/// </summary>
public sealed class TestIssuer : IAsyncDisposable
{
    private readonly WebApplication app;
    private readonly RSA rsa = RSA.Create(2048);
    private readonly ECDsa ec = ECDsa.Create(ECCurve.NamedCurves.nistP256);

    private TestIssuer(WebApplication app, string authority)
    {
        this.app = app;
        Authority = authority;
    }

    /// <summary>Also the <c>iss</c> of its tokens.</summary>
    public string Authority { get; }

    public string JwksUrl => Authority + "/jwks";

    public const string RsaKeyId = "rsa-1";
    public const string EcKeyId = "ec-1";

    /// <summary>How many times its JWKS was fetched (by anyone).</summary>
    public int JwksFetches => jwksFetches;

    private int jwksFetches;

    public static async Task<TestIssuer> StartAsync()
    {
        var port = FreePort.Next();
        var authority = $"http://127.0.0.1:{port}";
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls(authority);
        builder.Logging.ClearProviders();
        var app = builder.Build();
        var issuer = new TestIssuer(app, authority);
        app.MapGet("/.well-known/openid-configuration", () => Results.Text(new JsonObject
        {
            ["issuer"] = authority,
            ["jwks_uri"] = issuer.JwksUrl,
            ["id_token_signing_alg_values_supported"] = new JsonArray("RS256", "ES256"),
            ["response_types_supported"] = new JsonArray("code"),
            ["subject_types_supported"] = new JsonArray("public"),
        }.ToJsonString(), "application/json"));
        app.MapGet("/jwks", () =>
        {
            Interlocked.Increment(ref issuer.jwksFetches);
            return Results.Text(issuer.Jwks(), "application/json");
        });
        await app.StartAsync();
        return issuer;
    }

    /// <summary>The public keys as a JWKS.</summary>
    public string Jwks()
    {
        var rsaKey = rsa.ExportParameters(false);
        var ecKey = ec.ExportParameters(false);
        return new JsonObject
        {
            ["keys"] = new JsonArray(
                new JsonObject { ["kty"] = "RSA", ["kid"] = RsaKeyId, ["use"] = "sig", ["alg"] = "RS256", ["n"] = B64(rsaKey.Modulus!), ["e"] = B64(rsaKey.Exponent!) },
                new JsonObject { ["kty"] = "EC", ["kid"] = EcKeyId, ["use"] = "sig", ["alg"] = "ES256", ["crv"] = "P-256", ["x"] = B64(ecKey.Q.X!), ["y"] = B64(ecKey.Q.Y!) }),
        }.ToJsonString();
    }

    /// <summary>The RSA public key as a JWK (what an attacker would use as an HMAC secret).</summary>
    public JsonObject RsaPublicJwk() => JsonNode.Parse(Jwks())!["keys"]![0]!.AsObject().DeepClone().AsObject();

    /// <summary>The SubjectPublicKeyInfo PEM of the RSA key.</summary>
    public string RsaPublicPem() => rsa.ExportSubjectPublicKeyInfoPem();

    /// <summary>A well-formed access token (<c>at+jwt</c>, RS256) for <paramref name="audience"/>; change anything with the callbacks.</summary>
    public string Token(string audience, string organisation, string[] roles, TimeProvider? clock = null,
        Action<JsonObject>? header = null, Action<JsonObject>? payload = null, string algorithm = "RS256")
    {
        var now = (clock ?? TimeProvider.System).GetUtcNow().ToUnixTimeSeconds();
        var head = new JsonObject { ["alg"] = algorithm, ["typ"] = "at+jwt", ["kid"] = algorithm.StartsWith("ES", StringComparison.Ordinal) ? EcKeyId : RsaKeyId };
        var claims = new JsonObject
        {
            ["iss"] = Authority,
            ["aud"] = audience,
            ["sub"] = "client-" + organisation,
            ["client_id"] = "client-" + organisation,
            ["org"] = organisation,
            ["roles"] = new JsonArray(roles.Select(role => (JsonNode)role).ToArray()),
            ["iat"] = now,
            ["nbf"] = now,
            ["exp"] = now + 600,
            ["jti"] = Guid.NewGuid().ToString("N"),
        };
        header?.Invoke(head);
        payload?.Invoke(claims);
        return Sign(head, claims);
    }

    /// <summary>Signs as the header's <c>alg</c> says with this issuer's keys (<c>none</c>: no signature).</summary>
    public string Sign(JsonObject header, JsonObject payload) =>
        SignWith(header, payload, (string)header["alg"]! switch
        {
            "RS256" => data => rsa.SignData(data, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1),
            "PS256" => data => rsa.SignData(data, HashAlgorithmName.SHA256, RSASignaturePadding.Pss),
            "ES256" => data => ec.SignData(data, HashAlgorithmName.SHA256),
            "none" => _ => [],
            var other => throw new ArgumentException($"TestIssuer cannot sign {other}; use SignWith."),
        });

    /// <summary>Signs with any function: an HMAC keyed with public material, another party's key, …</summary>
    public static string SignWith(JsonObject header, JsonObject payload, Func<byte[], byte[]> sign)
    {
        var input = B64(Encoding.UTF8.GetBytes(header.ToJsonString())) + "." + B64(Encoding.UTF8.GetBytes(payload.ToJsonString()));
        return input + "." + B64(sign(Encoding.ASCII.GetBytes(input)));
    }

    public static string B64(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    public async ValueTask DisposeAsync()
    {
        await app.StopAsync();
        await app.DisposeAsync();
        rsa.Dispose();
        ec.Dispose();
    }
}
