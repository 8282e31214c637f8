using System.Text;
using System.Text.Json;

namespace TOEX.Sharing.Sealing;

/// <summary>
/// Seals one recipient's copy of a package: an ES256 compact JWS by the broker's current key
/// (typ <see cref="JoseNames.PackageType"/>, kid, and <see cref="JoseNames.RecipientThumbprintHeader"/>
/// binding it to the recipient) inside a compact JWE for the recipient's public key
/// (ECDH-ES+A256KW or RSA-OAEP-256, A256GCM, kid of the recipient's key, cty "JWT").
/// Any standard JOSE library opens it: decrypt, then verify against the broker's JWKS.
/// The recipient's key comes imported (<see cref="RecipientKey"/>, read once from the partner registry); each copy
/// gets its own content key and, for an EC recipient, its own ephemeral key (RFC 7518 §4.6).
/// </summary>
public sealed class PackageSealer(IKeyRing ring)
{
    /// <summary>Returns the compact JWE. <paramref name="payloadJson"/> must be UTF-8 JSON.</summary>
    public string Seal(ReadOnlySpan<byte> payloadJson, RecipientKey recipient)
    {
        ArgumentNullException.ThrowIfNull(recipient);
        EnsureJson(payloadJson, nameof(payloadJson));

        return Encrypt(CompactJws.SignToAscii(payloadJson, ring.Current, JoseNames.PackageType, recipient.Thumbprint), recipient);
    }

    /// <summary>The compact JWE of a signed compact JWS (its ASCII bytes) for <paramref name="recipient"/>: what every sealed item is.</summary>
    internal static string Encrypt(ReadOnlySpan<byte> jws, RecipientKey recipient) =>
        CompactJwe.Encrypt(jws, recipient, JoseNames.NestedContentType);

    /// <inheritdoc cref="Encrypt(ReadOnlySpan{byte}, RecipientKey)"/>
    internal static string Encrypt(string jws, RecipientKey recipient) => Encrypt(Encoding.ASCII.GetBytes(jws), recipient);

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
