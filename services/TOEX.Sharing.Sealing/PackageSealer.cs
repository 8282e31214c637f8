using System.Text;
using System.Text.Json;
using Jose;

namespace TOEX.Sharing.Sealing;

/// <summary>
/// Seals one recipient's copy of a package: an ES256 compact JWS by the broker's current key
/// (typ <see cref="JoseNames.PackageType"/>, kid, and <see cref="JoseNames.RecipientThumbprintHeader"/>
/// binding it to the recipient) inside a compact JWE for the recipient's public key
/// (ECDH-ES+A256KW or RSA-OAEP-256, A256GCM, kid of the recipient's key, cty "JWT").
/// Any standard JOSE library opens it: decrypt, then verify against the broker's JWKS.
/// </summary>
public sealed class PackageSealer(IKeyRing ring)
{
    /// <summary>Returns the compact JWE. <paramref name="payloadJson"/> must be UTF-8 JSON.</summary>
    public string Seal(ReadOnlySpan<byte> payloadJson, RecipientKey recipient)
    {
        ArgumentNullException.ThrowIfNull(recipient);
        EnsureJson(payloadJson, nameof(payloadJson));

        return Encrypt(CompactJws.Sign(payloadJson, ring.Current, JoseNames.PackageType, recipient.Thumbprint), recipient);
    }

    /// <summary>The compact JWE of a signed compact JWS for <paramref name="recipient"/>: what every sealed item is.</summary>
    internal static string Encrypt(string jws, RecipientKey recipient)
    {
        var headers = new Dictionary<string, object>
        {
            ["kid"] = recipient.KeyId,
            ["cty"] = JoseNames.NestedContentType,
        };
        using var key = recipient.CreatePublicKey();
        return JWT.EncodeBytes(
            Encoding.ASCII.GetBytes(jws),
            key,
            recipient.Kind == KeyKind.EC ? JweAlgorithm.ECDH_ES_A256KW : JweAlgorithm.RSA_OAEP_256,
            JweEncryption.A256GCM,
            extraHeaders: headers);
    }

    private static void EnsureJson(ReadOnlySpan<byte> utf8, string parameterName)
    {
        var reader = new Utf8JsonReader(utf8);
        try
        {
            while (reader.Read())
            {
            }
        }
        catch (JsonException exception)
        {
            throw new ArgumentException("The payload is not valid UTF-8 JSON.", parameterName, exception);
        }

        if (reader.BytesConsumed == 0)
        {
            throw new ArgumentException("The payload is empty.", parameterName);
        }
    }
}
