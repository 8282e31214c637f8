using System.Security.Cryptography;
using System.Text.Json.Nodes;

namespace TOEX.Sharing.Sealing;

/// <summary>The files <see cref="KeyFiles.Generate"/> wrote.</summary>
public sealed record GeneratedKey(string KeyId, KeyKind Kind, string PrivateJwkPath, string PublicJwksPath);

/// <summary>
/// Key pairs as files: <c>NAME.private.jwk</c> (the private JWK, mode 0600 on Unix) and
/// <c>NAME.jwks.json</c> (a JWKS holding only the public key). Used for sample partner keys and,
/// with <see cref="KeyUse.Signature"/>, for standalone signing keys.
/// </summary>
public static class KeyFiles
{
    public const string PrivateKeySuffix = ".private.jwk";
    public const string PublicKeySetSuffix = ".jwks.json";

    /// <summary>Size of newly generated RSA keys; partners' existing RSA keys need only 2048 bits.</summary>
    public const int GeneratedRsaBits = 3072;

    /// <summary>
    /// Generates a key pair and writes it into <paramref name="directory"/> (created 0700 if missing): EC on
    /// <paramref name="curve"/> (P-256 by default; P-384 for a partner's encryption key) or RSA.
    /// <paramref name="name"/> defaults to the key id; <paramref name="keyId"/> defaults to the RFC 7638 thumbprint.
    /// Refuses to overwrite an existing key file.
    /// </summary>
    public static GeneratedKey Generate(string directory, KeyKind kind, KeyUse use = KeyUse.Encryption, string? name = null, string? keyId = null,
        ECCurve? curve = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(directory);
        var jwk = CreatePrivateJwk(kind, use, keyId, curve: curve);
        var kid = (string)jwk["kid"]!;
        var fileName = name ?? kid;
        if (fileName.Length == 0 || fileName.IndexOfAny(Path.GetInvalidFileNameChars()) >= 0 || fileName is "." or "..")
        {
            throw new SealException($"'{fileName}' cannot be used as a key file name.");
        }

        SecureFiles.CreatePrivateDirectory(directory);
        var privatePath = Path.Combine(directory, fileName + PrivateKeySuffix);
        var publicPath = Path.Combine(directory, fileName + PublicKeySetSuffix);
        foreach (var path in new[] { privatePath, publicPath })
        {
            if (File.Exists(path))
            {
                throw new SealException($"'{path}' already exists; a key file is never overwritten.");
            }
        }

        SecureFiles.WriteNew(privatePath, JsonWebKeys.ToJson(jwk), isPrivate: true);
        SecureFiles.WriteNew(publicPath, JsonWebKeys.ToKeySetJson([JsonWebKeys.PublicOf(jwk, "The key")]), isPrivate: false);
        return new GeneratedKey(kid, kind, privatePath, publicPath);
    }

    /// <summary>
    /// Reads a private JWK file (EC P-256 or RSA ≥ 2048 with its private members) and returns its JSON.
    /// A JWKS holding exactly one key is accepted too. Throws <see cref="SealException"/> naming the file and the problem.
    /// </summary>
    public static string ReadPrivateJwk(string path)
    {
        var what = $"Key file '{path}'";
        var keys = JsonWebKeys.ParseKeySet(ReadText(path, what), what);
        if (keys.Count != 1)
        {
            throw new SealException($"{what} holds {keys.Count} keys; give a file with exactly one private key.");
        }

        JsonWebKeys.Validate(keys[0], requirePrivate: true, what);
        return keys[0].ToJsonString();
    }

    /// <summary>
    /// Reads a public key set file (a JWKS, or a single public JWK) and returns its JSON. Rejects a
    /// file holding private key material: a key set is published, so it must never contain one.
    /// </summary>
    public static string ReadJwks(string path)
    {
        var what = $"Key set file '{path}'";
        return CheckJwks(ReadText(path, what), what);
    }

    /// <summary>
    /// Checks a public key set's JSON however it was obtained (a file, a published URL) and returns it: a JWKS or a
    /// single public JWK, never private key material. <paramref name="what"/> names its source in errors.
    /// </summary>
    public static string CheckJwks(string json, string what)
    {
        foreach (var jwk in JsonWebKeys.ParseKeySet(json, what))
        {
            if (JsonWebKeys.HasPrivateMembers(jwk))
            {
                throw new SealException($"{what} contains private key material; a key set must hold public keys only.");
            }
        }

        return json;
    }

    /// <summary>A fresh Ed25519 private JWK (kty OKP, use "sig", alg EdDSA, kid the RFC 7638 thumbprint).</summary>
    internal static JsonObject CreateEd25519PrivateJwk()
    {
        var seed = RandomNumberGenerator.GetBytes(32);
        try
        {
            using var key = NSec.Cryptography.Key.Import(NSec.Cryptography.SignatureAlgorithm.Ed25519, seed, NSec.Cryptography.KeyBlobFormat.RawPrivateKey);
            var jwk = JsonWebKeys.WriteEd25519(key.PublicKey.Export(NSec.Cryptography.KeyBlobFormat.RawPublicKey), keyId: null);
            jwk["d"] = System.Buffers.Text.Base64Url.EncodeToString(seed);
            return jwk;
        }
        finally
        {
            CryptographicOperations.ZeroMemory(seed);
        }
    }

    internal static JsonObject CreatePrivateJwk(KeyKind kind, KeyUse use, string? keyId, int rsaBits = GeneratedRsaBits, ECCurve? curve = null)
    {
        if (kind == KeyKind.EC)
        {
            if (curve is { } other && other.Oid.Value != ECCurve.NamedCurves.nistP256.Oid.Value && use == KeyUse.Signature)
            {
                throw new SealException("Signing keys are EC P-256 (ES256); P-384 is for partners' encryption keys only.");
            }
            using var ec = ECDiffieHellman.Create(curve ?? ECCurve.NamedCurves.nistP256);
            var parameters = ec.ExportParameters(includePrivateParameters: true);
            return use == KeyUse.Encryption
                ? JsonWebKeys.WriteEc(parameters, includePrivate: true, keyId, "enc", JoseNames.EcKeyManagement)
                : JsonWebKeys.WriteEc(parameters, includePrivate: true, keyId, "sig", JoseNames.SignatureAlgorithm);
        }

        if (use == KeyUse.Signature)
        {
            throw new SealException("Signing keys are EC P-256 (ES256); RSA is for partners' encryption keys only.");
        }

        using var rsa = RSA.Create(rsaBits);
        return JsonWebKeys.WriteRsa(rsa.ExportParameters(includePrivateParameters: true), includePrivate: true, keyId, "enc", JoseNames.RsaKeyManagement);
    }

    private static string ReadText(string path, string what)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        try
        {
            return File.ReadAllText(path);
        }
        catch (Exception exception) when (exception is FileNotFoundException or DirectoryNotFoundException)
        {
            throw new SealException($"{what} does not exist.");
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
        {
            throw new SealException($"{what} cannot be read: {exception.Message}");
        }
    }
}
