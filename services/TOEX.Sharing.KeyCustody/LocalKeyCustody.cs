using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using TOEX.Sharing.Contracts;
using TOEX.Sharing.Sealing;

namespace TOEX.Sharing.KeyCustody;

/// <summary>
/// Development custody: keys in files on this machine, readable by their owner only (checked at every open). Signing
/// purposes are a <see cref="LocalKeyRing"/> (ES256, or Ed25519 for webhooks); the data-at-rest purpose is a file of
/// AES-256 keys wrapping with AES-256-GCM. Production refuses it (see <see cref="KeyCustodyOptionsValidator"/>).
/// </summary>
public sealed class LocalKeyCustody : IKeyCustody
{
    /// <summary>The algorithm name of a data key wrapped here: AES-256-GCM, <c>nonce (12) || ciphertext || tag (16)</c>, the key id as associated data.</summary>
    public const string WrapAlgorithm = "A256GCM";

    public const string WrappingKeysFileName = "wrapping-keys.json";

    private readonly LocalKeyRing? ring;
    private readonly string directory;
    private readonly TimeProvider time;
    private readonly Lock gate = new();

    private LocalKeyCustody(KeyPurpose purpose, string directory, LocalKeyRing? ring, TimeProvider time)
    {
        Purpose = purpose;
        this.directory = directory;
        this.ring = ring;
        this.time = time;
    }

    public KeyPurpose Purpose { get; }

    public string Provider => CustodyProviders.Local;

    /// <summary>Opens (creating on first use) the purpose's keys in <paramref name="directory"/> (0700).</summary>
    public static LocalKeyCustody Open(KeyPurpose purpose, string directory, TimeProvider time)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(directory);
        directory = Path.GetFullPath(directory);
        if (purpose == KeyPurpose.BlindIndex)
        {
            throw new KeyCustodyException("The local blind-index key is the file Gateway:BlindIndexKeyPath / Audit:BlindIndexKeyPath (SubjectBlindIndex.Open).");
        }
        if (!purpose.Signs())
        {
            var custody = new LocalKeyCustody(purpose, directory, null, time);
            _ = custody.ReadWrappingKeys();
            return custody;
        }
        if (purpose == KeyPurpose.WebhookSigning && Directory.Exists(directory))
        {
            WebhookSigningKey.AdoptLegacyKey(directory, time);
        }
        return new LocalKeyCustody(purpose, directory, LocalKeyRing.OpenOrCreate(directory, time, purpose.Algorithm()), time);
    }

    public IReadOnlyList<CustodyKey> Keys => ring is not null
        ? [.. ring.All.Select(key => new CustodyKey(key.KeyId, key.Algorithm, key.PublicJwk, null, null))]
        : [.. ReadWrappingKeys().Ordered().Select(key => new CustodyKey(key.Kid, WrapAlgorithm, null, key.CreatedAt, key.RetiredAt))];

    public byte[] Sign(string keyId, ReadOnlySpan<byte> data) =>
        ring is null ? throw new KeyCustodyException($"The {Purpose.Name()} key does not sign.")
        : (ring.Find(keyId) ?? throw new KeyCustodyException($"Key ring '{directory}' holds no key '{keyId}'.")).SignData(data);

    public WrappedKey Wrap(ReadOnlySpan<byte> dataKey)
    {
        var keys = ReadWrappingKeys();
        var current = keys.Keys.First(k => k.Kid == keys.Current);
        var nonce = RandomNumberGenerator.GetBytes(12);
        var output = new byte[12 + dataKey.Length + 16];
        nonce.CopyTo(output, 0);
        var secret = Base64Url.DecodeFromChars(current.Key);
        try
        {
            using var aes = new AesGcm(secret, 16);
            aes.Encrypt(nonce, dataKey, output.AsSpan(12, dataKey.Length), output.AsSpan(12 + dataKey.Length), Encoding.UTF8.GetBytes(current.Kid));
        }
        finally
        {
            CryptographicOperations.ZeroMemory(secret);
        }
        return new WrappedKey(current.Kid, WrapAlgorithm, output);
    }

    public byte[] Unwrap(WrappedKey wrapped)
    {
        ArgumentNullException.ThrowIfNull(wrapped);
        if (wrapped.Algorithm != WrapAlgorithm || wrapped.Value.Length < 28)
        {
            throw new KeyCustodyException($"The data key was wrapped with '{wrapped.Algorithm}'; this custody unwraps {WrapAlgorithm}.");
        }
        var key = ReadWrappingKeys().Keys.FirstOrDefault(k => k.Kid == wrapped.KeyId)
            ?? throw new KeyCustodyException($"'{directory}' holds no wrapping key '{wrapped.KeyId}'.");
        var secret = Base64Url.DecodeFromChars(key.Key);
        var output = new byte[wrapped.Value.Length - 28];
        try
        {
            using var aes = new AesGcm(secret, 16);
            aes.Decrypt(wrapped.Value.AsSpan(0, 12), wrapped.Value.AsSpan(12, output.Length), wrapped.Value.AsSpan(12 + output.Length),
                output, Encoding.UTF8.GetBytes(key.Kid));
            return output;
        }
        catch (AuthenticationTagMismatchException)
        {
            throw new KeyCustodyException($"The wrapped data key does not unwrap with key '{wrapped.KeyId}': it was altered or wrapped by another key.");
        }
        finally
        {
            CryptographicOperations.ZeroMemory(secret);
        }
    }

    public string PublicJwks() => ring?.PublicJwks() ?? """{"keys":[]}""";

    public CustodyKey Rotate()
    {
        if (ring is not null)
        {
            var key = ring.Rotate();
            return new CustodyKey(key.KeyId, key.Algorithm, key.PublicJwk, time.GetUtcNow(), null);
        }
        lock (gate)
        {
            var keys = ReadWrappingKeys();
            var now = time.GetUtcNow();
            var added = NewWrappingKey(now);
            WriteWrappingKeys(new WrappingKeys(added.Kid,
                [added, .. keys.Keys.Select(k => k.Kid == keys.Current ? k with { RetiredAt = now } : k)]), overwrite: true);
            return new CustodyKey(added.Kid, WrapAlgorithm, null, now, null);
        }
    }

    public void Dispose() => ring?.Dispose();

    private string WrappingKeysPath => Path.Combine(directory, WrappingKeysFileName);

    private WrappingKeys ReadWrappingKeys()
    {
        if (!File.Exists(WrappingKeysPath))
        {
            SecureFiles.CreatePrivateDirectory(directory);
            var first = NewWrappingKey(time.GetUtcNow());
            WriteWrappingKeys(new WrappingKeys(first.Kid, [first]), overwrite: false);
        }
        SecureFiles.EnsureOwnerOnly(directory, $"Key directory '{directory}'");
        SecureFiles.EnsureOwnerOnly(WrappingKeysPath, $"Wrapping key file '{WrappingKeysPath}'");
        try
        {
            var keys = ToexJson.Deserialize<WrappingKeys>(File.ReadAllText(WrappingKeysPath));
            return keys.Keys.Any(k => k.Kid == keys.Current) ? keys
                : throw new KeyCustodyException($"'{WrappingKeysPath}' does not list its current key.");
        }
        catch (JsonException)
        {
            throw new KeyCustodyException($"'{WrappingKeysPath}' is not a valid list of wrapping keys.");
        }
    }

    private static WrappingKey NewWrappingKey(DateTimeOffset now)
    {
        var secret = RandomNumberGenerator.GetBytes(32);
        try
        {
            return new WrappingKey(Base64Url.EncodeToString(RandomNumberGenerator.GetBytes(16)), Base64Url.EncodeToString(secret), now, null);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(secret);
        }
    }

    private void WriteWrappingKeys(WrappingKeys keys, bool overwrite) =>
        SecureFiles.WriteAtomically(WrappingKeysPath, ToexJson.Serialize(keys), isPrivate: true, overwrite);

    private sealed record WrappingKeys(string Current, IReadOnlyList<WrappingKey> Keys)
    {
        public IEnumerable<WrappingKey> Ordered() => Keys.OrderByDescending(k => k.Kid == Current).ThenByDescending(k => k.CreatedAt);
    }

    private sealed record WrappingKey(string Kid, string Key, DateTimeOffset CreatedAt, DateTimeOffset? RetiredAt);
}
