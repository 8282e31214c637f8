using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;

namespace TOEX.Sharing.Sealing;

/// <summary>
/// What a partner runs to read a package: decrypt the JWE with its private key, then verify the
/// broker's inner JWS against the broker's public JWKS. Accepts only what <see cref="PackageSealer"/>
/// produces: ECDH-ES+A256KW or RSA-OAEP-256 with A256GCM, cty "JWT", ES256 by a listed broker key,
/// typ <see cref="JoseNames.PackageType"/>, signed for this recipient. Every failure is a
/// <see cref="SealException"/> with a plain message.
/// </summary>
public static class PackageOpener
{
    private const string Outer = "sealed package";
    private const string Inner = "package";

    /// <summary>Returns the package JSON.</summary>
    public static string Open(string compactJwe, string recipientPrivateJwkJson, string brokerJwksJson) =>
        OpenPackage(compactJwe, recipientPrivateJwkJson, brokerJwksJson).PayloadText;

    /// <summary>Returns the package JSON bytes with the signer and recipient key ids.</summary>
    public static OpenedPackage OpenPackage(string compactJwe, string recipientPrivateJwkJson, string brokerJwksJson) =>
        OpenNested(compactJwe, recipientPrivateJwkJson, brokerJwksJson, JoseNames.PackageType, Inner, Outer).Opened;

    /// <summary>
    /// Decrypts a JWE sealed the way <see cref="PackageSealer"/> seals, then verifies its inner JWS: signed by a broker key,
    /// of type <paramref name="expectedType"/>, for this recipient. Returns what was opened and the inner JWS itself.
    /// </summary>
    internal static (OpenedPackage Opened, string Jws) OpenNested(string compactJwe, string recipientPrivateJwkJson, string brokerJwksJson,
        string expectedType, string inner, string outer)
    {
        ArgumentNullException.ThrowIfNull(compactJwe);
        ArgumentNullException.ThrowIfNull(recipientPrivateJwkJson);
        ArgumentNullException.ThrowIfNull(brokerJwksJson);
        compactJwe = compactJwe.Trim();

        var recipient = JsonWebKeys.ParseObject(recipientPrivateJwkJson, "The recipient's private key");
        using var trusted = new TrustedKeys(brokerJwksJson, "The broker's key set");
        var kind = JsonWebKeys.KindOf(recipient, "The recipient's private key");
        var thumbprint = JsonWebKeys.Thumbprint(recipient);
        var ownKeyId = JsonWebKeys.GetString(recipient, "kid", "The recipient's private key") ?? thumbprint;

        var header = JoseHeader.Read(compactJwe, parts: 5, outer);
        var expected = kind == KeyKind.EC ? JoseNames.EcKeyManagement : JoseNames.RsaKeyManagement;
        var algorithm = header.Get("alg");
        if (algorithm != expected)
        {
            throw new SealException($"The {outer} uses key management '{algorithm ?? "(none)"}'; {(kind == KeyKind.EC ? "an EC" : "an RSA")} key opens only '{expected}'.");
        }

        var encryption = header.Get("enc");
        if (encryption != JoseNames.ContentEncryption)
        {
            throw new SealException($"The {outer} uses content encryption '{encryption ?? "(none)"}'; only '{JoseNames.ContentEncryption}' is accepted.");
        }

        header.RejectUnsupported("zip", "crit");
        if (!string.Equals(header.Get("cty"), JoseNames.NestedContentType, StringComparison.OrdinalIgnoreCase))
        {
            throw new SealException($"The {outer} does not contain a signed {inner} (cty is not '{JoseNames.NestedContentType}').");
        }

        var sealedFor = header.Get("kid");
        var plaintext = Decrypt(compactJwe, header, recipient, kind, sealedFor, ownKeyId, thumbprint, outer);

        string jws;
        try
        {
            jws = new UTF8Encoding(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true).GetString(plaintext);
        }
        catch (DecoderFallbackException)
        {
            throw new SealException($"The {outer} does not contain a signed {inner}.");
        }

        var (payload, innerHeader, signer) = CompactJws.Verify(jws, trusted, expectedType, inner);
        if (innerHeader.Get(JoseNames.RecipientThumbprintHeader) != thumbprint)
        {
            throw new SealException($"The {inner} was signed by the broker for another recipient: it has been forwarded, not released to you.");
        }

        return (new OpenedPackage(payload, signer, sealedFor ?? ownKeyId), jws);
    }

    private static byte[] Decrypt(string compactJwe, JoseHeader header, JsonObject recipient, KeyKind kind, string? sealedFor,
        string ownKeyId, string thumbprint, string outer)
    {
        const string what = "The recipient's private key";
        using AsymmetricAlgorithm key = kind == KeyKind.EC
            ? ECDiffieHellman.Create(JsonWebKeys.ReadEc(recipient, requirePrivate: true, what))
            : RSA.Create(JsonWebKeys.ReadRsa(recipient, requirePrivate: true, what));
        try
        {
            return CompactJwe.Decrypt(compactJwe, header, key);
        }
        catch (Exception exception) when (exception is CryptographicException or FormatException)
        {
            var notOurs = sealedFor is not null && sealedFor != ownKeyId && sealedFor != thumbprint;
            throw new SealException(notOurs
                ? $"The {outer} was sealed for key '{sealedFor}', not for the key given ('{ownKeyId}'), and does not decrypt with it."
                : $"The {outer} does not decrypt with the key given: it was sealed for another key or altered.");
        }
    }
}
