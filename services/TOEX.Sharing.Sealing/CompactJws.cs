using System.Buffers;
using System.Buffers.Text;
using System.Text;
using System.Text.Json;

namespace TOEX.Sharing.Sealing;

/// <summary>
/// ES256 compact JWS (RFC 7515): signing with a <see cref="SigningKey"/> (whose private key may be in a hardware
/// module or a vault, so the signing input is built here and only it goes to the key, through
/// <see cref="SigningKey.SignData"/>), strict verification against <see cref="TrustedKeys"/>.
/// </summary>
internal static class CompactJws
{
    /// <summary>An ES256 signature in JWS form (IEEE P1363, r || s) is 64 bytes.</summary>
    private const int SignatureBytes = 64;

    public static string Sign(ReadOnlySpan<byte> payload, SigningKey key, string type, string? recipientThumbprint = null) =>
        Encoding.ASCII.GetString(SignToAscii(payload, key, type, recipientThumbprint));

    /// <summary>
    /// The compact JWS as ASCII bytes (what a JWE encrypts when it nests it): protected header <c>alg</c> ES256,
    /// <c>typ</c>, <c>kid</c> and, for a package, <see cref="JoseNames.RecipientThumbprintHeader"/>; the signature by
    /// <paramref name="key"/> over <c>BASE64URL(header) '.' BASE64URL(payload)</c>.
    /// </summary>
    public static byte[] SignToAscii(ReadOnlySpan<byte> payload, SigningKey key, string type, string? recipientThumbprint = null)
    {
        ArgumentNullException.ThrowIfNull(key);
        if (key.Algorithm != JoseNames.SignatureAlgorithm)
        {
            throw new SealException($"Key '{key.KeyId}' is for {key.Algorithm}; JWS objects are signed {JoseNames.SignatureAlgorithm}.");
        }

        var header = new ArrayBufferWriter<byte>(192);
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

        var headerLength = Base64Url.GetEncodedLength(header.WrittenCount);
        var signed = headerLength + 1 + Base64Url.GetEncodedLength(payload.Length);
        var jws = new byte[signed + 1 + Base64Url.GetEncodedLength(SignatureBytes)];
        Base64Url.EncodeToUtf8(header.WrittenSpan, jws);
        jws[headerLength] = (byte)'.';
        Base64Url.EncodeToUtf8(payload, jws.AsSpan(headerLength + 1));
        jws[signed] = (byte)'.';
        var signature = key.SignData(jws.AsSpan(0, signed));
        Base64Url.EncodeToUtf8(signature, jws.AsSpan(signed + 1));
        return jws;
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
        if (!trusted.TryGetKey(keyId, out var key))
        {
            throw new SealException($"The {what} was signed with key '{keyId}', which is not among the trusted keys.");
        }

        var firstDot = jws.IndexOf('.', StringComparison.Ordinal);
        var secondDot = jws.IndexOf('.', firstDot + 1);
        byte[] payload;
        bool valid;
        try
        {
            payload = Base64Url.DecodeFromChars(jws.AsSpan(firstDot + 1, secondDot - firstDot - 1));
            var signature = Base64Url.DecodeFromChars(jws.AsSpan(secondDot + 1));
            // Every character of the signing input is base64url (both parts decoded), so its ASCII bytes are exact.
            valid = signature.Length == SignatureBytes
                && key.VerifyData(Encoding.ASCII.GetBytes(jws, 0, secondDot), signature,
                    System.Security.Cryptography.HashAlgorithmName.SHA256,
                    System.Security.Cryptography.DSASignatureFormat.IeeeP1363FixedFieldConcatenation);
        }
        catch (FormatException)
        {
            valid = false;
            payload = [];
        }

        if (!valid)
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
