using System.Security.Cryptography;
using System.Text.Json.Nodes;

namespace TOEX.Sharing.Sealing;

/// <summary>
/// A broker or policy signing key (ES256, EC P-256). The private key stays inside this library: callers
/// sign through <see cref="PackageSealer"/>, <see cref="DecisionSigner"/> or <see cref="DevIssuer"/>.
/// Owned by the key ring that loaded it.
/// </summary>
public sealed class SigningKey
{
    private readonly JsonObject publicJwk;

    private SigningKey(string keyId, ECDsa ecdsa, JsonObject publicJwk)
    {
        KeyId = keyId;
        Ecdsa = ecdsa;
        this.publicJwk = publicJwk;
    }

    public string KeyId { get; }

    public string Algorithm { get; } = JoseNames.SignatureAlgorithm;

    /// <summary>The public JWK: kty, crv, x, y, kid, use "sig", alg "ES256".</summary>
    public string PublicJwk => publicJwk.ToJsonString();

    internal ECDsa Ecdsa { get; }

    /// <summary>
    /// An ES256 signature over <paramref name="data"/> in IEEE P1363 form (r || s, 64 bytes), as JWS uses:
    /// for statements that are not JOSE objects, such as the audit ledger's signed tree heads.
    /// </summary>
    public byte[] SignData(ReadOnlySpan<byte> data) =>
        Ecdsa.SignData(data, HashAlgorithmName.SHA256, DSASignatureFormat.IeeeP1363FixedFieldConcatenation);

    internal JsonObject PublicJwkObject => (JsonObject)publicJwk.DeepClone();

    /// <summary>Loads a private EC P-256 JWK meant for signing (use "sig" or none, alg "ES256" or none).</summary>
    internal static SigningKey FromPrivateJwk(JsonObject jwk, string what)
    {
        var use = JsonWebKeys.GetString(jwk, "use", what);
        var algorithm = JsonWebKeys.GetString(jwk, "alg", what);
        if (use is not (null or "sig"))
        {
            throw new SealException($"{what} is marked for use '{use}'; a signing key needs use 'sig'.");
        }

        if (algorithm is not (null or JoseNames.SignatureAlgorithm))
        {
            throw new SealException($"{what} is for algorithm '{algorithm}'; signing keys are {JoseNames.SignatureAlgorithm}.");
        }

        var parameters = JsonWebKeys.ReadEc(jwk, requirePrivate: true, what);
        var keyId = JsonWebKeys.KeyIdOf(jwk, what);
        var publicJwk = JsonWebKeys.WriteEc(parameters, includePrivate: false, keyId, "sig", JoseNames.SignatureAlgorithm);
        return new SigningKey(keyId, ECDsa.Create(parameters), publicJwk);
    }
}
