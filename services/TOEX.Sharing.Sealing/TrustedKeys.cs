using System.Security.Cryptography;

namespace TOEX.Sharing.Sealing;

/// <summary>
/// The ES256 verification keys of a public JWKS (the broker's or PolicyDecision's), by key id, each imported once.
/// Keys of other kinds or uses are ignored; a set with private key material is refused. Verifying is safe from
/// several threads at once; dispose it once nothing verifies with it.
/// </summary>
internal sealed class TrustedKeys : IDisposable
{
    private readonly Dictionary<string, (ECParameters Parameters, ECDsa Key)> keys;

    public TrustedKeys(string jwksJson, string what)
    {
        ArgumentNullException.ThrowIfNull(jwksJson);
        keys = new Dictionary<string, (ECParameters, ECDsa)>(StringComparer.Ordinal);
        try
        {
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
                    var parameters = JsonWebKeys.ReadEc(jwk, requirePrivate: false, what);
                    var keyId = JsonWebKeys.KeyIdOf(jwk, what);
                    if (keys.Remove(keyId, out var replaced))
                    {
                        replaced.Key.Dispose();
                    }

                    keys[keyId] = (parameters, ECDsa.Create(parameters));
                }
            }
        }
        catch
        {
            Dispose();
            throw;
        }

        if (keys.Count == 0)
        {
            throw new SealException($"{what} holds no {JoseNames.SignatureAlgorithm} (EC P-256) signing key.");
        }
    }

    public bool TryGetKey(string keyId, out ECDsa key)
    {
        var found = keys.TryGetValue(keyId, out var entry);
        key = entry.Key;
        return found;
    }

    public bool TryGetParameters(string keyId, out ECParameters parameters)
    {
        var found = keys.TryGetValue(keyId, out var entry);
        parameters = entry.Parameters;
        return found;
    }

    public void Dispose()
    {
        foreach (var (_, key) in keys.Values)
        {
            key.Dispose();
        }

        keys.Clear();
    }
}
