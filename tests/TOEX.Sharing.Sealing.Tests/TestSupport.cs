using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Jose;
using Microsoft.Extensions.Time.Testing;
using Base64Url = System.Buffers.Text.Base64Url;

namespace TOEX.Sharing.Sealing.Tests;

/// <summary>A fresh directory under the system temp folder, deleted on dispose.</summary>
internal sealed class TempDirectory : IDisposable
{
    public TempDirectory()
    {
        Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "toex-sealing-tests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Path);
    }

    public string Path { get; }

    public string Combine(string name) => System.IO.Path.Combine(Path, name);

    public void Dispose()
    {
        if (Directory.Exists(Path))
        {
            Directory.Delete(Path, recursive: true);
        }
    }
}

/// <summary>A partner's key pair as the partner registry (public JWKS) and the partner (private JWK) hold it.</summary>
internal sealed record TestPartner(string PrivateJwk, string Jwks)
{
    public RecipientKey RecipientKey => RecipientKey.FromJwks(Jwks);

    /// <summary>A partner key by its name in tests: <c>RSA</c>, <c>P-256</c> or <c>P-384</c>.</summary>
    public static TestPartner Create(string type) => type switch
    {
        "RSA" => Create(KeyKind.Rsa),
        "P-256" => Create(KeyKind.EC),
        "P-384" => Create(KeyKind.EC, ECCurve.NamedCurves.nistP384),
        _ => throw new ArgumentOutOfRangeException(nameof(type)),
    };

    /// <summary>RSA test keys are 2048 bits (the accepted minimum) to keep the suite quick.</summary>
    public static TestPartner Create(KeyKind kind, ECCurve? curve = null)
    {
        var jwk = KeyFiles.CreatePrivateJwk(kind, KeyUse.Encryption, keyId: null, rsaBits: 2048, curve: curve);
        return new TestPartner(jwk.ToJsonString(), JsonWebKeys.ToKeySetJson([JsonWebKeys.PublicOf(jwk, "test key")]));
    }

    /// <summary>Encrypts any inner content to this partner, the way an attacker holding the public key could.</summary>
    public string EncryptToPartner(string inner, JweAlgorithm? algorithm = null)
    {
        var key = RecipientKey;
        using var publicKey = key.CreatePublicKey();
        var headers = new Dictionary<string, object> { ["kid"] = key.KeyId, ["cty"] = "JWT" };
        return JWT.Encode(
            inner,
            publicKey,
            algorithm ?? (key.Kind == KeyKind.EC ? JweAlgorithm.ECDH_ES_A256KW : JweAlgorithm.RSA_OAEP_256),
            JweEncryption.A256GCM,
            extraHeaders: headers);
    }

    /// <summary>Decrypts a sealed package without any check, returning the inner compact JWS.</summary>
    public string DecryptInner(string jwe)
    {
        var jwk = JsonNode.Parse(PrivateJwk)!.AsObject();
        using AsymmetricAlgorithm key = JsonWebKeys.KindOf(jwk, "test key") == KeyKind.EC
            ? ECDiffieHellman.Create(JsonWebKeys.ReadEc(jwk, requirePrivate: true, "test key"))
            : RSA.Create(JsonWebKeys.ReadRsa(jwk, requirePrivate: true, "test key"));
        return JWT.Decrypt(jwe, key);
    }
}

internal static class Jose64
{
    public static string Encode(string text) => Base64Url.EncodeToString(Encoding.UTF8.GetBytes(text));

    public static string Decode(string segment) => Encoding.UTF8.GetString(Base64Url.DecodeFromChars(segment));

    public static JsonObject Header(string compact) => JsonNode.Parse(Decode(compact.Split('.')[0]))!.AsObject();

    /// <summary>Changes one character in the middle of a part, so the decoded bytes certainly differ.</summary>
    public static string TamperPart(string compact, int part)
    {
        var parts = compact.Split('.');
        var segment = parts[part].ToCharArray();
        var middle = segment.Length / 2;
        segment[middle] = segment[middle] == 'A' ? 'B' : 'A';
        parts[part] = new string(segment);
        return string.Join('.', parts);
    }
}

internal static class TestClock
{
    public static readonly DateTimeOffset Start = new(2025, 11, 25, 9, 0, 0, TimeSpan.Zero);

    public static FakeTimeProvider Create() => new(Start);
}
