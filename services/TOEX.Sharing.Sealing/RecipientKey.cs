using System.Security.Cryptography;
using System.Text.Json.Nodes;

namespace TOEX.Sharing.Sealing;

/// <summary>
/// A partner's public encryption key, as published in its JWKS in the partner registry: EC P-256 or P-384
/// (sealed with ECDH-ES+A256KW) or RSA of at least 2048 bits (sealed with RSA-OAEP-256). Imported into the
/// platform's cryptography once, when it is read, and used for every copy sealed for the partner: immutable and
/// safe to share between threads. Dispose it once no seal uses it any more (a registry that reloads a partner's
/// key disposes the key it replaced).
/// </summary>
public sealed class RecipientKey : IDisposable
{
    private static readonly string[] EncryptionOperations = ["encrypt", "wrapKey", "deriveKey", "deriveBits"];

    private readonly ECParameters ec;
    private readonly RSAParameters rsa;
    private readonly ECDiffieHellmanPublicKey? ecPublicKey;
    private readonly RSA? rsaKey;

    private RecipientKey(string keyId, string thumbprint, KeyKind kind, int keySize, ECParameters ec, RSAParameters rsa)
    {
        KeyId = keyId;
        Thumbprint = thumbprint;
        Kind = kind;
        KeySize = keySize;
        this.ec = ec;
        this.rsa = rsa;
        if (kind == KeyKind.EC)
        {
            using var imported = ECDiffieHellman.Create(ec);
            // The public key object holds its own reference to the platform key: the importing object can go.
            ecPublicKey = imported.PublicKey;
            CurveName = JsonWebKeys.CurveName(ec);
        }
        else
        {
            rsaKey = RSA.Create(rsa);
        }
    }

    /// <summary>The key's <c>kid</c>, or its RFC 7638 thumbprint when the JWK has none. Sent as the JWE's <c>kid</c>.</summary>
    public string KeyId { get; }

    /// <summary>The RFC 7638 SHA-256 thumbprint (base64url); signed into the package as <see cref="JoseNames.RecipientThumbprintHeader"/>.</summary>
    public string Thumbprint { get; }

    public KeyKind Kind { get; }

    /// <summary>Size in bits: 256 for P-256, 384 for P-384, the modulus length for RSA.</summary>
    public int KeySize { get; }

    /// <summary>The JWE key management algorithm used for this key.</summary>
    public string Algorithm => Kind == KeyKind.EC ? JoseNames.EcKeyManagement : JoseNames.RsaKeyManagement;

    /// <summary>
    /// Picks the first encryption key of a partner's JWKS (a single JWK is accepted too): use "enc" or
    /// none, an allowed algorithm if one is named, EC P-256 or P-384, or RSA ≥ 2048. Signing keys are skipped;
    /// if no key qualifies the message says why each was refused.
    /// </summary>
    public static RecipientKey FromJwks(string jwksJson)
    {
        ArgumentNullException.ThrowIfNull(jwksJson);
        var reasons = new List<string>();
        var keys = JsonWebKeys.ParseKeySet(jwksJson, "The recipient's key set");
        for (var index = 0; index < keys.Count; index++)
        {
            var jwk = keys[index];
            var what = $"Key {index + 1}" + (jwk["kid"] is JsonValue kid && kid.TryGetValue<string>(out var name) ? $" ('{name}')" : string.Empty);
            try
            {
                return Read(jwk, what);
            }
            catch (SealException exception)
            {
                reasons.Add(exception.Message);
            }
        }

        throw new SealException("The recipient's key set holds no usable encryption key: " + string.Join(" ", reasons));
    }

    /// <summary>
    /// Reads one JWK offered as a partner's new encryption key, by the rules of <see cref="FromJwks"/>; the message of the
    /// <see cref="SealException"/> says what is wrong, starting with <paramref name="what"/>.
    /// </summary>
    public static RecipientKey FromJwk(JsonObject jwk, string what)
    {
        ArgumentNullException.ThrowIfNull(jwk);
        return Read(jwk, what);
    }

    internal static RecipientKey Read(JsonObject jwk, string what)
    {
        var kind = JsonWebKeys.KindOf(jwk, what);
        if (JsonWebKeys.HasPrivateMembers(jwk))
        {
            throw new SealException($"{what} contains private key material; a partner publishes its public key only.");
        }

        var use = JsonWebKeys.GetString(jwk, "use", what);
        if (use is not (null or "enc"))
        {
            throw new SealException($"{what} is for use '{use}', not encryption.");
        }

        if (jwk["key_ops"] is JsonArray operations
            && !operations.Any(operation => operation is JsonValue value && value.TryGetValue<string>(out var text) && EncryptionOperations.Contains(text)))
        {
            throw new SealException($"{what} does not allow encryption (key_ops).");
        }

        var expected = kind == KeyKind.EC ? JoseNames.EcKeyManagement : JoseNames.RsaKeyManagement;
        var algorithm = JsonWebKeys.GetString(jwk, "alg", what);
        if (algorithm is not null && algorithm != expected)
        {
            throw new SealException($"{what} is for algorithm '{algorithm}'; TOEX seals to {(kind == KeyKind.EC ? "EC" : "RSA")} keys with '{expected}'.");
        }

        if (kind == KeyKind.EC)
        {
            var ec = JsonWebKeys.ReadEc(jwk, requirePrivate: false, what);
            return new RecipientKey(JsonWebKeys.KeyIdOf(jwk, what), JsonWebKeys.Thumbprint(jwk), kind, ec.Q.X!.Length * 8, ec, default);
        }

        var rsa = JsonWebKeys.ReadRsa(jwk, requirePrivate: false, what);
        return new RecipientKey(JsonWebKeys.KeyIdOf(jwk, what), JsonWebKeys.Thumbprint(jwk), kind, JsonWebKeys.RsaBits(rsa), default, rsa);
    }

    /// <summary>The JWK <c>crv</c> of an EC key (the curve of the ephemeral key of every copy sealed for it); null for RSA.</summary>
    internal string? CurveName { get; }

    /// <summary>The curve of an EC key.</summary>
    internal ECCurve Curve => ec.Curve;

    /// <summary>The imported EC public key (ECDH-ES); only for <see cref="KeyKind.EC"/>.</summary>
    internal ECDiffieHellmanPublicKey EcPublicKey => ecPublicKey ?? throw new InvalidOperationException("Not an EC key.");

    /// <summary>The imported RSA public key (RSA-OAEP-256); only for <see cref="KeyKind.Rsa"/>.</summary>
    internal RSA RsaKey => rsaKey ?? throw new InvalidOperationException("Not an RSA key.");

    /// <summary>A fresh .NET key object of the same public key (for tests that encrypt to the partner otherwise); the caller disposes it.</summary>
    internal AsymmetricAlgorithm CreatePublicKey() =>
        Kind == KeyKind.EC ? ECDiffieHellman.Create(ec) : RSA.Create(rsa);

    public void Dispose()
    {
        ecPublicKey?.Dispose();
        rsaKey?.Dispose();
    }
}
