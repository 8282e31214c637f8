using System.Security.Cryptography;
using System.Text.Json.Nodes;

namespace TOEX.Sharing.Sealing;

/// <summary>
/// One signing key of a key ring: its id, algorithm and public JWK, and a way to sign with its private key,
/// wherever that key is kept (<see cref="ISignatureSource"/>): ES256 (EC P-256) for packages, decisions and
/// tree heads, EdDSA (Ed25519) for webhooks. Callers sign through <see cref="PackageSealer"/>,
/// <see cref="DecisionSigner"/>, <see cref="WebhookSigningKey"/> or <see cref="SignData"/>.
/// </summary>
public sealed class SigningKey
{
    private readonly JsonObject publicJwk;
    private readonly ISignatureSource source;

    private SigningKey(string keyId, string algorithm, JsonObject publicJwk, ISignatureSource source, ECDsa? ecdsa)
    {
        KeyId = keyId;
        Algorithm = algorithm;
        this.publicJwk = publicJwk;
        this.source = source;
        Ecdsa = ecdsa;
    }

    public string KeyId { get; }

    /// <summary><see cref="JoseNames.SignatureAlgorithm"/> (ES256) or <see cref="JoseNames.WebhookSignatureAlgorithm"/> (EdDSA).</summary>
    public string Algorithm { get; }

    /// <summary>The public JWK: EC (kty, crv P-256, x, y) or OKP (crv Ed25519, x), with kid, use "sig" and alg.</summary>
    public string PublicJwk => publicJwk.ToJsonString();

    /// <summary>The private key as a .NET object, for a key of the local ring only (the development issuer needs one); null otherwise.</summary>
    internal ECDsa? Ecdsa { get; }

    internal JsonObject PublicJwkObject => (JsonObject)publicJwk.DeepClone();

    /// <summary>
    /// A signature over <paramref name="data"/>: ES256 in IEEE P1363 form (r || s, 64 bytes), as JWS uses, or
    /// Ed25519. For statements that are not JOSE objects, such as the audit ledger's signed tree heads.
    /// </summary>
    public byte[] SignData(ReadOnlySpan<byte> data) => source.Sign(data);

    /// <summary>
    /// A key kept elsewhere (a hardware module, a vault): <paramref name="publicJwkJson"/> is its public half, an
    /// EC P-256 key (ES256) or an OKP Ed25519 key (EdDSA); its <c>kid</c> is the RFC 7638 thumbprint unless it names one.
    /// </summary>
    public static SigningKey InCustody(string publicJwkJson, ISignatureSource source)
    {
        ArgumentNullException.ThrowIfNull(source);
        var (publicJwk, algorithm) = PublicSigningJwk(publicJwkJson);
        return new SigningKey((string)publicJwk["kid"]!, algorithm, publicJwk, source, ecdsa: null);
    }

    /// <summary>
    /// The public JWK of a signing key as TOEX publishes it (kid, use "sig", alg), from its bare public half: EC P-256
    /// (ES256) or OKP Ed25519 (EdDSA); <c>kid</c> the RFC 7638 thumbprint unless the JWK names one.
    /// </summary>
    public static string PublishedJwk(string publicJwkJson) => PublicSigningJwk(publicJwkJson).Jwk.ToJsonString();

    private static (JsonObject Jwk, string Algorithm) PublicSigningJwk(string publicJwkJson)
    {
        const string what = "The custody key's public JWK";
        var jwk = JsonWebKeys.ParseObject(publicJwkJson, what);
        if (JsonWebKeys.HasPrivateMembers(jwk))
        {
            throw new SealException($"{what} holds private key material.");
        }
        if (JsonWebKeys.GetString(jwk, "kty", what) == "OKP")
        {
            return (JsonWebKeys.WriteEd25519(JsonWebKeys.ReadEd25519(jwk, what), JsonWebKeys.GetString(jwk, "kid", what)), JoseNames.WebhookSignatureAlgorithm);
        }

        var parameters = JsonWebKeys.ReadEc(jwk, requirePrivate: false, what);
        if (parameters.Curve.Oid.Value != ECCurve.NamedCurves.nistP256.Oid.Value)
        {
            throw new SealException($"{what} is not on P-256; signing keys are {JoseNames.SignatureAlgorithm}.");
        }
        return (JsonWebKeys.WriteEc(parameters, includePrivate: false, JsonWebKeys.GetString(jwk, "kid", what), "sig", JoseNames.SignatureAlgorithm),
            JoseNames.SignatureAlgorithm);
    }

    /// <summary>
    /// Loads a private signing JWK (use "sig" or none): EC P-256 (alg "ES256" or none), or OKP Ed25519 (alg "EdDSA" or none).
    /// </summary>
    internal static SigningKey FromPrivateJwk(JsonObject jwk, string what)
    {
        var use = JsonWebKeys.GetString(jwk, "use", what);
        var algorithm = JsonWebKeys.GetString(jwk, "alg", what);
        if (use is not (null or "sig"))
        {
            throw new SealException($"{what} is marked for use '{use}'; a signing key needs use 'sig'.");
        }

        if (JsonWebKeys.GetString(jwk, "kty", what) == "OKP")
        {
            return FromEd25519PrivateJwk(jwk, algorithm, what);
        }

        if (algorithm is not (null or JoseNames.SignatureAlgorithm))
        {
            throw new SealException($"{what} is for algorithm '{algorithm}'; signing keys are {JoseNames.SignatureAlgorithm}.");
        }

        var parameters = JsonWebKeys.ReadEc(jwk, requirePrivate: true, what);
        if (parameters.Curve.Oid.Value != ECCurve.NamedCurves.nistP256.Oid.Value)
        {
            throw new SealException($"{what} is not on P-256; signing keys are {JoseNames.SignatureAlgorithm}.");
        }
        var keyId = JsonWebKeys.KeyIdOf(jwk, what);
        var publicJwk = JsonWebKeys.WriteEc(parameters, includePrivate: false, keyId, "sig", JoseNames.SignatureAlgorithm);
        var ecdsa = ECDsa.Create(parameters);
        return new SigningKey(keyId, JoseNames.SignatureAlgorithm, publicJwk, new LocalEcdsaSource(ecdsa), ecdsa);
    }

    private static SigningKey FromEd25519PrivateJwk(JsonObject jwk, string? algorithm, string what)
    {
        if (algorithm is not (null or JoseNames.WebhookSignatureAlgorithm))
        {
            throw new SealException($"{what} is for algorithm '{algorithm}'; Ed25519 keys sign {JoseNames.WebhookSignatureAlgorithm}.");
        }
        var x = JsonWebKeys.ReadEd25519(jwk, what);
        var d = JsonWebKeys.GetString(jwk, "d", what) ?? throw new SealException($"{what} is a public key; a private key (with 'd') is needed.");
        byte[] seed;
        try
        {
            seed = System.Buffers.Text.Base64Url.DecodeFromChars(d);
        }
        catch (FormatException)
        {
            throw new SealException($"{what}: member 'd' is not base64url.");
        }
        try
        {
            if (!NSec.Cryptography.Key.TryImport(NSec.Cryptography.SignatureAlgorithm.Ed25519, seed, NSec.Cryptography.KeyBlobFormat.RawPrivateKey, out var key)
                || !key!.PublicKey.Export(NSec.Cryptography.KeyBlobFormat.RawPublicKey).AsSpan().SequenceEqual(x))
            {
                key?.Dispose();
                throw new SealException($"{what} is not a valid Ed25519 key ('d' does not match 'x').");
            }
            var publicJwk = JsonWebKeys.WriteEd25519(x, JsonWebKeys.GetString(jwk, "kid", what));
            return new SigningKey((string)publicJwk["kid"]!, JoseNames.WebhookSignatureAlgorithm, publicJwk, new LocalEd25519Source(key), ecdsa: null);
        }
        finally
        {
            System.Security.Cryptography.CryptographicOperations.ZeroMemory(seed);
        }
    }

    /// <summary>The local ring's Ed25519 key (NSec, libsodium underneath).</summary>
    private sealed class LocalEd25519Source(NSec.Cryptography.Key key) : ISignatureSource
    {
        public byte[] Sign(ReadOnlySpan<byte> data) => NSec.Cryptography.SignatureAlgorithm.Ed25519.Sign(key, data);
    }

    /// <summary>The local ring's key: an ES256 signature by the .NET key object.</summary>
    private sealed class LocalEcdsaSource(ECDsa ecdsa) : ISignatureSource
    {
        public byte[] Sign(ReadOnlySpan<byte> data) =>
            ecdsa.SignData(data, HashAlgorithmName.SHA256, DSASignatureFormat.IeeeP1363FixedFieldConcatenation);
    }
}
