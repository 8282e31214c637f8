using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using NSec.Cryptography;

namespace TOEX.Sharing.Sealing;

/// <summary>
/// The broker's Ed25519 key for Standard Webhooks <c>v1a</c> signatures: one private JWK file
/// (<c>webhook-ed25519.private.jwk</c>, 0600) in an owner-only directory, created on first use. Its public
/// half is published as an OKP JWK (<c>crv</c> Ed25519, <c>alg</c> EdDSA) whose <c>kid</c> is the RFC 7638
/// thumbprint.
/// </summary>
public sealed class WebhookSigningKey : IDisposable
{
    public const string FileName = "webhook-ed25519.private.jwk";
    private static readonly SignatureAlgorithm Ed25519 = SignatureAlgorithm.Ed25519;
    private readonly Key _key;

    private WebhookSigningKey(Key key)
    {
        _key = key;
        PublicKey = key.PublicKey.Export(KeyBlobFormat.RawPublicKey);
        KeyId = Thumbprint(PublicKey);
    }

    public string KeyId { get; }

    /// <summary>The raw 32-byte public key.</summary>
    public byte[] PublicKey { get; }

    /// <summary>The Standard Webhooks form of the public key: <c>whpk_</c> and its base64.</summary>
    public string StandardPublicKey => "whpk_" + Convert.ToBase64String(PublicKey);

    public static WebhookSigningKey OpenOrCreate(string directory)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(directory);
        directory = Path.GetFullPath(directory);
        SecureFiles.CreatePrivateDirectory(directory);
        var path = Path.Combine(directory, FileName);
        if (!File.Exists(path))
        {
            var seed = RandomNumberGenerator.GetBytes(32);
            using var created = Key.Import(Ed25519, seed, KeyBlobFormat.RawPrivateKey, new KeyCreationParameters { ExportPolicy = KeyExportPolicies.AllowPlaintextExport });
            var x = created.PublicKey.Export(KeyBlobFormat.RawPublicKey);
            var jwk = new JsonObject
            {
                ["kty"] = "OKP",
                ["crv"] = "Ed25519",
                ["alg"] = "EdDSA",
                ["use"] = "sig",
                ["kid"] = Thumbprint(x),
                ["x"] = Base64Url.EncodeToString(x),
                ["d"] = Base64Url.EncodeToString(seed),
            };
            CryptographicOperations.ZeroMemory(seed);
            // Another process may have created it at the same moment: then its key is the one used.
            SecureFiles.WriteAtomically(path, jwk.ToJsonString(), isPrivate: true, overwrite: false);
        }
        return Open(path);
    }

    private static WebhookSigningKey Open(string path)
    {
        var jwk = JsonWebKeys.ParseObject(File.ReadAllText(path), "The webhook signing key");
        if (JsonWebKeys.GetString(jwk, "kty", path) != "OKP" || JsonWebKeys.GetString(jwk, "crv", path) != "Ed25519"
            || JsonWebKeys.GetString(jwk, "d", path) is not { } d)
        {
            throw new SealException($"{path} is not an Ed25519 private JWK.");
        }
        var seed = Base64Url.DecodeFromChars(d);
        try
        {
            return new WebhookSigningKey(Key.Import(Ed25519, seed, KeyBlobFormat.RawPrivateKey));
        }
        finally
        {
            CryptographicOperations.ZeroMemory(seed);
        }
    }

    /// <summary>The public JWKS receivers verify webhook signatures with.</summary>
    public string PublicJwks() => new JsonObject
    {
        ["keys"] = new JsonArray(new JsonObject
        {
            ["kty"] = "OKP",
            ["crv"] = "Ed25519",
            ["alg"] = "EdDSA",
            ["use"] = "sig",
            ["kid"] = KeyId,
            ["x"] = Base64Url.EncodeToString(PublicKey),
        }),
    }.ToJsonString();

    /// <summary>The <c>webhook-signature</c> header value for one attempt: <c>v1a,</c> and the base64 Ed25519 signature.</summary>
    public string Sign(string webhookId, long timestamp, string body) =>
        "v1a," + Convert.ToBase64String(Ed25519.Sign(_key, StandardWebhook.SignedContent(webhookId, timestamp, body)));

    public void Dispose() => _key.Dispose();

    /// <summary>RFC 7638 (and RFC 8037) thumbprint of an Ed25519 public key: SHA-256 over <c>{"crv","kty","x"}</c>.</summary>
    private static string Thumbprint(byte[] x) =>
        Base64Url.EncodeToString(SHA256.HashData(Encoding.UTF8.GetBytes(
            $"{{\"crv\":\"Ed25519\",\"kty\":\"OKP\",\"x\":\"{Base64Url.EncodeToString(x)}\"}}")));
}
