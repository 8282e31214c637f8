using System.Security.Cryptography;

namespace TOEX.Sharing.Sealing;

/// <summary>
/// The ES256 verification keys of a public JWKS (the broker's or PolicyDecision's), by key id.
/// Keys of other kinds or uses are ignored; a set with private key material is refused.
/// </summary>
internal sealed class TrustedKeys
{
    private readonly Dictionary<string, ECParameters> keys;

    public TrustedKeys(string jwksJson, string what)
    {
        ArgumentNullException.ThrowIfNull(jwksJson);
        keys = new Dictionary<string, ECParameters>(StringComparer.Ordinal);
        foreach (var jwk in JsonWebKeys.ParseKeySet(jwksJson, what))
        {
            if (JsonWebKeys.HasPrivateMembers(jwk))
            {
                throw new SealException($"{what} contains private key material; give the public key set (JWKS).");
            }

            var isSigningKey = JsonWebKeys.GetString(jwk, "kty", what) == "EC"
                && JsonWebKeys.GetString(jwk, "use", what) is null or "sig"
                && JsonWebKeys.GetString(jwk, "alg", what) is null or JoseNames.SignatureAlgorithm
                && JsonWebKeys.GetString(jwk, "crv", what) == "P-256";
            if (isSigningKey)
            {
                keys[JsonWebKeys.KeyIdOf(jwk, what)] = JsonWebKeys.ReadEc(jwk, requirePrivate: false, what);
            }
        }

        if (keys.Count == 0)
        {
            throw new SealException($"{what} holds no {JoseNames.SignatureAlgorithm} (EC P-256) signing key.");
        }
    }

    public bool TryGet(string keyId, out ECParameters parameters) => keys.TryGetValue(keyId, out parameters);
}
