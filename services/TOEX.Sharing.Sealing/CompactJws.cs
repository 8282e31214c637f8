using Base64Url = System.Buffers.Text.Base64Url;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Jose;

namespace TOEX.Sharing.Sealing;

/// <summary>
/// ES256 compact JWS: signing with a <see cref="SigningKey"/> (whose private key may be in a hardware module, so
/// the signing input is built here and only it goes to the key), strict verification against <see cref="TrustedKeys"/>.
/// </summary>
internal static class CompactJws
{
    public static string Sign(ReadOnlySpan<byte> payload, SigningKey key, string type, string? recipientThumbprint = null)
    {
        if (key.Algorithm != JoseNames.SignatureAlgorithm)
        {
            throw new SealException($"Key '{key.KeyId}' is for {key.Algorithm}; JWS objects are signed {JoseNames.SignatureAlgorithm}.");
        }

        var header = new System.Buffers.ArrayBufferWriter<byte>(128);
        using (var writer = new Utf8JsonWriter(header))
        {
            writer.WriteStartObject();
            writer.WriteString("alg", JoseNames.SignatureAlgorithm);
            writer.WriteString("typ", type);
            writer.WriteString("kid", key.KeyId);
            if (recipientThumbprint is not null)
            {
                writer.WriteString(JoseNames.RecipientThumbprintHeader, recipientThumbprint);
            }
            writer.WriteEndObject();
        }

        var signingInput = Base64Url.EncodeToString(header.WrittenSpan) + "." + Base64Url.EncodeToString(payload);
        var signature = key.SignData(Encoding.ASCII.GetBytes(signingInput));
        return signingInput + "." + Base64Url.EncodeToString(signature);
    }

    /// <summary>
    /// Verifies <paramref name="jws"/>: alg exactly ES256, a kid found in <paramref name="trusted"/>,
    /// a valid signature, then typ equal to <paramref name="expectedType"/>. Returns the payload and the header.
    /// </summary>
    public static (byte[] Payload, JoseHeader Header, string KeyId) Verify(string jws, TrustedKeys trusted, string expectedType, string what)
    {
        var header = JoseHeader.Read(jws, parts: 3, what);
        var algorithm = header.Get("alg");
        if (algorithm != JoseNames.SignatureAlgorithm)
        {
            throw new SealException(algorithm switch
            {
                null => $"The {what} names no algorithm; only {JoseNames.SignatureAlgorithm} is accepted.",
                _ when algorithm.Equals("none", StringComparison.OrdinalIgnoreCase) =>
                    $"The {what} is unsigned (alg 'none'); only {JoseNames.SignatureAlgorithm} signatures are accepted.",
                _ => $"The {what} is signed with '{algorithm}'; only {JoseNames.SignatureAlgorithm} is accepted.",
            });
        }

        header.RejectUnsupported("crit", "b64", "zip", "jku", "jwk", "x5u");
        var keyId = header.Get("kid") ?? throw new SealException($"The {what} names no signing key (kid).");
        if (!trusted.TryGet(keyId, out var parameters))
        {
            throw new SealException($"The {what} was signed with key '{keyId}', which is not among the trusted keys.");
        }

        byte[] payload;
        try
        {
            using var key = ECDsa.Create(parameters);
            payload = JWT.VerifyBytes(jws, key, JwsAlgorithm.ES256);
        }
        catch (Exception exception) when (exception is JoseException or CryptographicException or FormatException or ArgumentException)
        {
            throw new SealException($"The {what}'s signature does not verify: it was altered, or not signed with key '{keyId}'.");
        }

        var type = header.Get("typ");
        if (!string.Equals(type, expectedType, StringComparison.OrdinalIgnoreCase))
        {
            throw new SealException($"The {what} has type '{type ?? "(none)"}'; expected '{expectedType}'.");
        }

        return (payload, header, keyId);
    }
}
