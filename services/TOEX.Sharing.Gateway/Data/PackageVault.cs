using System.Buffers.Text;
using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using TOEX.Sharing.KeyCustody;

namespace TOEX.Sharing.Gateway.Data;

/// <summary>
/// Keeps a package's body unreadable at rest: encrypted (AES-256-GCM) under a data key of its own, which is wrapped by
/// the <c>DataAtRest</c> custody key (a PKCS#11 token or a vault in Production) and stored beside it. The store alone
/// reveals no subject, no narrative, no handling condition; a body is decrypted in memory only where a copy is built.
/// </summary>
/// <remarks>
/// Stored form (one string, in <see cref="Submission.PackageJson"/>):
/// <c>atrest1.B64U(kid).B64U(wrap algorithm).B64U(wrapped data key).B64U(nonce).B64U(ciphertext ‖ tag)</c>, the package id as
/// associated data, so a body copied onto another package's row does not open. A store written before this existed
/// holds the canonical JSON itself; <see cref="Open"/> still reads it, and <see cref="StoreSchema"/> encrypts such rows at start.
/// </remarks>
public sealed class PackageVault(IKeyCustody custody)
{
    private const string Prefix = "atrest1.";
    private const int NonceSize = 12;
    private const int TagSize = 16;

    /// <summary>The last data keys unwrapped, by wrapped key: a body is opened once per recipient, the key unwrapped once.</summary>
    private readonly ConcurrentDictionary<string, byte[]> unwrapped = new(StringComparer.Ordinal);

    /// <summary>Encrypts <paramref name="json"/>, the body of package <paramref name="packageId"/>, under a fresh data key.</summary>
    public string Protect(Guid packageId, string json)
    {
        var dataKey = RandomNumberGenerator.GetBytes(32);
        try
        {
            var wrapped = custody.Wrap(dataKey);
            var plaintext = Encoding.UTF8.GetBytes(json);
            var nonce = RandomNumberGenerator.GetBytes(NonceSize);
            var sealedBytes = new byte[plaintext.Length + TagSize];
            using (var aes = new AesGcm(dataKey, TagSize))
            {
                aes.Encrypt(nonce, plaintext, sealedBytes.AsSpan(0, plaintext.Length), sealedBytes.AsSpan(plaintext.Length), Associated(packageId));
            }
            CryptographicOperations.ZeroMemory(plaintext);
            return Prefix + string.Join('.',
                B64(Encoding.UTF8.GetBytes(wrapped.KeyId)), B64(Encoding.UTF8.GetBytes(wrapped.Algorithm)), B64(wrapped.Value), B64(nonce), B64(sealedBytes));
        }
        finally
        {
            CryptographicOperations.ZeroMemory(dataKey);
        }
    }

    /// <summary>The body of package <paramref name="packageId"/> as submitted (canonical JSON).</summary>
    /// <exception cref="CryptographicException">The stored body was altered, belongs to another package, or its key is unknown.</exception>
    public string Open(Guid packageId, string stored)
    {
        if (!IsProtected(stored))
        {
            // A row written before bodies were encrypted (StoreSchema encrypts these at start): it can only be the JSON itself.
            return stored.StartsWith('{') ? stored : throw new CryptographicException($"Package {packageId}: the stored body is in no known form.");
        }
        var parts = stored[Prefix.Length..].Split('.');
        if (parts.Length != 5)
        {
            throw new CryptographicException($"Package {packageId}: the stored body is malformed.");
        }
        var dataKey = unwrapped.GetOrAdd(parts[2], _ =>
        {
            try
            {
                return custody.Unwrap(new WrappedKey(Encoding.UTF8.GetString(Base64Url.DecodeFromChars(parts[0])),
                    Encoding.UTF8.GetString(Base64Url.DecodeFromChars(parts[1])), Base64Url.DecodeFromChars(parts[2])));
            }
            catch (KeyCustodyException e)
            {
                throw new CryptographicException($"Package {packageId}: its data key does not unwrap ({e.Message}).", e);
            }
        });
        if (unwrapped.Count > 4096)
        {
            unwrapped.Clear();
        }
        var nonce = Base64Url.DecodeFromChars(parts[3]);
        var sealedBytes = Base64Url.DecodeFromChars(parts[4]);
        if (nonce.Length != NonceSize || sealedBytes.Length < TagSize)
        {
            throw new CryptographicException($"Package {packageId}: the stored body is malformed.");
        }
        var plaintext = new byte[sealedBytes.Length - TagSize];
        using (var aes = new AesGcm(dataKey, TagSize))
        {
            aes.Decrypt(nonce, sealedBytes.AsSpan(0, plaintext.Length), sealedBytes.AsSpan(plaintext.Length), plaintext, Associated(packageId));
        }
        return Encoding.UTF8.GetString(plaintext);
    }

    /// <summary>Whether <paramref name="stored"/> is an encrypted body (not JSON written before encryption at rest).</summary>
    public static bool IsProtected(string stored) => stored.StartsWith(Prefix, StringComparison.Ordinal);

    private static byte[] Associated(Guid packageId) => Encoding.ASCII.GetBytes($"toex-package-body:{packageId:D}");

    private static string B64(byte[] bytes) => Base64Url.EncodeToString(bytes);
}
