using System.Buffers;
using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace TOEX.Sharing.Sealing;

/// <summary>
/// Compact JWE (RFC 7516) as TOEX seals packages, on the platform's own cryptography: content encrypted with A256GCM
/// under a fresh random content key; the content key wrapped for the recipient by ECDH-ES+A256KW (a fresh ephemeral
/// key on the recipient's curve for every copy, RFC 7518 §4.6: Concat KDF, then AES Key Wrap, RFC 3394) or by
/// RSA-OAEP-256. The protected header is the additional authenticated data, so no header member can be changed.
/// </summary>
internal static class CompactJwe
{
    private const int ContentKeyBytes = 32;
    private const int IvBytes = 12;
    private const int TagBytes = 16;
    private const int KeyWrapBits = 256;

    /// <summary>
    /// Encrypts <paramref name="plaintext"/> for <paramref name="recipient"/>: header <c>alg</c>, <c>enc</c>,
    /// <c>kid</c> (the recipient key's), <c>cty</c> and, for EC, <c>epk</c> (the ephemeral public key).
    /// </summary>
    public static string Encrypt(ReadOnlySpan<byte> plaintext, RecipientKey recipient, string contentType)
    {
        ArgumentNullException.ThrowIfNull(recipient);
        var contentKey = RandomNumberGenerator.GetBytes(ContentKeyBytes);
        try
        {
            byte[] header;
            byte[] encryptedKey;
            if (recipient.Kind == KeyKind.EC)
            {
                using var ephemeral = ECDiffieHellman.Create(recipient.Curve);
                var epk = ephemeral.ExportParameters(includePrivateParameters: false);
                header = Header(recipient, contentType, epk);
                var keyEncryptionKey = ConcatKdf.DeriveKey(ephemeral, recipient.EcPublicKey, JoseNames.EcKeyManagement, KeyWrapBits, [], []);
                try
                {
                    encryptedKey = AesKeyWrap.Wrap(keyEncryptionKey, contentKey);
                }
                finally
                {
                    CryptographicOperations.ZeroMemory(keyEncryptionKey);
                }
            }
            else
            {
                header = Header(recipient, contentType, epk: null);
                encryptedKey = recipient.RsaKey.Encrypt(contentKey, RSAEncryptionPadding.OaepSHA256);
            }

            // The additional authenticated data is the ASCII of the encoded protected header (RFC 7516 §5.1 step 14).
            var protectedHeader = Base64Url.EncodeToUtf8(header);
            var iv = RandomNumberGenerator.GetBytes(IvBytes);
            var ciphertext = new byte[plaintext.Length];
            var tag = new byte[TagBytes];
            using (var gcm = new AesGcm(contentKey, TagBytes))
            {
                gcm.Encrypt(iv, plaintext, ciphertext, tag, protectedHeader);
            }

            return Serialize(protectedHeader, encryptedKey, iv, ciphertext, tag);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(contentKey);
        }
    }

    /// <summary>
    /// Decrypts a compact JWE whose header the caller has read and checked (<c>alg</c> is the one
    /// <paramref name="key"/> opens, <c>enc</c> A256GCM). Throws <see cref="CryptographicException"/> when it does not
    /// decrypt with the key (sealed for another key, or altered) and <see cref="FormatException"/> when a part is not
    /// base64url.
    /// </summary>
    public static byte[] Decrypt(string compact, JoseHeader header, AsymmetricAlgorithm key)
    {
        ArgumentNullException.ThrowIfNull(compact);
        ArgumentNullException.ThrowIfNull(header);
        Span<Range> parts = stackalloc Range[6];
        if (compact.AsSpan().Split(parts, '.') != 5)
        {
            throw new FormatException("Not a compact JWE of five parts.");
        }

        var span = compact.AsSpan();
        var aad = Encoding.ASCII.GetBytes(compact, 0, parts[0].End.Value);
        var encryptedKey = Base64Url.DecodeFromChars(span[parts[1]]);
        var iv = Base64Url.DecodeFromChars(span[parts[2]]);
        var ciphertext = Base64Url.DecodeFromChars(span[parts[3]]);
        var tag = Base64Url.DecodeFromChars(span[parts[4]]);
        if (iv.Length != IvBytes || tag.Length != TagBytes)
        {
            throw new CryptographicException("The initialisation vector or the authentication tag has the wrong length for A256GCM.");
        }

        var contentKey = key switch
        {
            ECDiffieHellman ec => UnwrapEc(ec, header, encryptedKey),
            RSA rsa => rsa.Decrypt(encryptedKey, RSAEncryptionPadding.OaepSHA256),
            _ => throw new ArgumentException("An EC (ECDH) or RSA private key opens a sealed package.", nameof(key)),
        };
        try
        {
            if (contentKey.Length != ContentKeyBytes)
            {
                throw new CryptographicException("The content key is not 256 bits.");
            }

            var plaintext = new byte[ciphertext.Length];
            using var gcm = new AesGcm(contentKey, TagBytes);
            gcm.Decrypt(iv, ciphertext, tag, plaintext, aad);
            return plaintext;
        }
        finally
        {
            CryptographicOperations.ZeroMemory(contentKey);
        }
    }

    /// <summary>ECDH-ES+A256KW: the sender's ephemeral key (<c>epk</c>) with the recipient's private key, then unwrap.</summary>
    private static byte[] UnwrapEc(ECDiffieHellman own, JoseHeader header, byte[] encryptedKey)
    {
        ECParameters epk;
        byte[] partyUInfo;
        byte[] partyVInfo;
        try
        {
            var jwk = header.GetObject("epk") ?? throw new CryptographicException("The header has no ephemeral public key (epk).");
            if (JsonWebKeys.HasPrivateMembers(jwk))
            {
                throw new CryptographicException("The ephemeral key carries private key material.");
            }

            // Reading checks the point is on its curve (no invalid-curve point reaches the key agreement).
            epk = JsonWebKeys.ReadEc(jwk, requirePrivate: false, "The ephemeral public key");
            partyUInfo = header.Get("apu") is { } apu ? Base64Url.DecodeFromChars(apu) : [];
            partyVInfo = header.Get("apv") is { } apv ? Base64Url.DecodeFromChars(apv) : [];
        }
        catch (SealException e)
        {
            throw new CryptographicException(e.Message, e);
        }

        using var ephemeral = ECDiffieHellman.Create(epk);
        if (ephemeral.KeySize != own.KeySize)
        {
            throw new CryptographicException("The ephemeral key is on another curve than the recipient's key.");
        }

        using var ephemeralPublic = ephemeral.PublicKey;
        var keyEncryptionKey = ConcatKdf.DeriveKey(own, ephemeralPublic, JoseNames.EcKeyManagement, KeyWrapBits, partyUInfo, partyVInfo);
        try
        {
            return AesKeyWrap.Unwrap(keyEncryptionKey, encryptedKey);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(keyEncryptionKey);
        }
    }

    private static byte[] Header(RecipientKey recipient, string contentType, ECParameters? epk)
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteString("alg", recipient.Algorithm);
            writer.WriteString("enc", JoseNames.ContentEncryption);
            writer.WriteString("kid", recipient.KeyId);
            writer.WriteString("cty", contentType);
            if (epk is { } ephemeral)
            {
                writer.WriteStartObject("epk");
                writer.WriteString("kty", "EC");
                writer.WriteString("crv", recipient.CurveName);
                writer.WriteBase64UrlString("x", ephemeral.Q.X!);
                writer.WriteBase64UrlString("y", ephemeral.Q.Y!);
                writer.WriteEndObject();
            }

            writer.WriteEndObject();
        }

        return buffer.WrittenSpan.ToArray();
    }

    private static void WriteBase64UrlString(this Utf8JsonWriter writer, string name, byte[] value) =>
        writer.WriteString(name, Base64Url.EncodeToString(value));

    /// <summary><c>header.encrypted_key.iv.ciphertext.tag</c>, the header already encoded.</summary>
    private static string Serialize(byte[] protectedHeader, byte[] encryptedKey, byte[] iv, byte[] ciphertext, byte[] tag)
    {
        var length = protectedHeader.Length + 4
            + Base64Url.GetEncodedLength(encryptedKey.Length) + Base64Url.GetEncodedLength(iv.Length)
            + Base64Url.GetEncodedLength(ciphertext.Length) + Base64Url.GetEncodedLength(tag.Length);
        return string.Create(length, (protectedHeader, encryptedKey, iv, ciphertext, tag), static (chars, parts) =>
        {
            var at = Encoding.ASCII.GetChars(parts.protectedHeader, chars);
            foreach (var part in (ReadOnlySpan<byte[]>)[parts.encryptedKey, parts.iv, parts.ciphertext, parts.tag])
            {
                chars[at++] = '.';
                at += Base64Url.EncodeToChars(part, chars[at..]);
            }
        });
    }
}
