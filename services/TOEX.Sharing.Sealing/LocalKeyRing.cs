using System.Buffers.Text;
using System.Text.Json;
using TOEX.Sharing.Contracts;

namespace TOEX.Sharing.Sealing;

/// <summary>
/// Development key custody: a directory (owner-only, git-ignored under <c>.local/</c>) holding one
/// private JWK file per key, <c>KID.private.jwk</c> (0600), and <c>keyring.json</c> naming the
/// current key and when each key was created and retired. Created with one fresh key on first use: EC P-256
/// (ES256) or, for the webhook ring, Ed25519 (EdDSA). A directory or file that others can read is refused.
/// Safe for concurrent readers in several processes; rotate from one process at a time. A rotation made by
/// another process (<c>toex keys rotate</c>) is picked up at the next use: the manifest is looked at each time.
/// </summary>
public sealed class LocalKeyRing : IKeyRing, IDisposable
{
    public const string ManifestFileName = "keyring.json";

    private readonly TimeProvider time;
    private readonly string algorithm;
    private readonly Lock gate = new();
    private volatile Snapshot state;

    private LocalKeyRing(string keyDirectory, TimeProvider time, string algorithm, Snapshot state)
    {
        KeyDirectory = keyDirectory;
        this.time = time;
        this.algorithm = algorithm;
        this.state = state;
    }

    /// <summary>The full path of the ring's directory.</summary>
    public string KeyDirectory { get; }

    public SigningKey Current => Fresh().Keys[0];

    /// <summary>Every key: the current one first, then retired keys, newest first.</summary>
    public IReadOnlyList<SigningKey> All => Fresh().Keys;

    /// <summary>
    /// Opens the ring in <paramref name="directory"/>, creating the directory (0700) and a first key if there is none.
    /// <paramref name="algorithm"/>: <see cref="JoseNames.SignatureAlgorithm"/> (ES256, default) or
    /// <see cref="JoseNames.WebhookSignatureAlgorithm"/> (EdDSA, Ed25519).
    /// </summary>
    public static LocalKeyRing OpenOrCreate(string directory, TimeProvider time, string algorithm = JoseNames.SignatureAlgorithm)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(directory);
        ArgumentNullException.ThrowIfNull(time);
        if (algorithm is not (JoseNames.SignatureAlgorithm or JoseNames.WebhookSignatureAlgorithm))
        {
            throw new ArgumentException($"A local key ring holds {JoseNames.SignatureAlgorithm} or {JoseNames.WebhookSignatureAlgorithm} keys.", nameof(algorithm));
        }
        directory = Path.GetFullPath(directory);
        SecureFiles.CreatePrivateDirectory(directory);
        SecureFiles.EnsureOwnerOnly(directory, $"Key ring '{directory}'");
        var manifestPath = Path.Combine(directory, ManifestFileName);
        if (!File.Exists(manifestPath))
        {
            var keyId = WriteNewKey(directory, algorithm);
            var manifest = new KeyRingManifest(keyId, [new KeyRingEntry(keyId, time.GetUtcNow(), null)]);
            if (!SecureFiles.WriteAtomically(manifestPath, ToexJson.Serialize(manifest), isPrivate: true, overwrite: false))
            {
                // Another process created the ring at the same moment: use its key, drop ours.
                File.Delete(KeyPath(directory, keyId));
            }
        }

        return new LocalKeyRing(directory, time, algorithm, Load(directory, algorithm));
    }

    public string PublicJwks() => Fresh().PublicJwks;

    public SigningKey? Find(string kid) => Fresh().Keys.FirstOrDefault(key => key.KeyId == kid);

    /// <summary>
    /// Makes a fresh key current. The previous current key is marked retired but stays in
    /// <see cref="All"/> and <see cref="PublicJwks"/>, so what it signed still verifies.
    /// </summary>
    public SigningKey Rotate()
    {
        lock (gate)
        {
            var manifestPath = Path.Combine(KeyDirectory, ManifestFileName);
            var manifest = ReadManifest(KeyDirectory);
            var now = time.GetUtcNow();
            var keyId = WriteNewKey(KeyDirectory, algorithm);
            var entries = new List<KeyRingEntry> { new(keyId, now, null) };
            entries.AddRange(manifest.Keys.Select(entry => entry.Kid == manifest.Current ? entry with { RetiredAt = now } : entry));
            SecureFiles.WriteAtomically(manifestPath, ToexJson.Serialize(new KeyRingManifest(keyId, entries)), isPrivate: true, overwrite: true);

            state = Load(KeyDirectory, algorithm);
            return state.Keys[0];
        }
    }

    /// <summary>The keys as the manifest now says: reloaded when another process rotated the ring since they were read.</summary>
    private Snapshot Fresh()
    {
        var current = state;
        var written = File.GetLastWriteTimeUtc(Path.Combine(KeyDirectory, ManifestFileName));
        if (written == current.ManifestWritten)
        {
            return current;
        }
        lock (gate)
        {
            if (state.ManifestWritten != written)
            {
                state = Load(KeyDirectory, algorithm);
            }
            return state;
        }
    }

    public void Dispose()
    {
        foreach (var key in state.Keys)
        {
            key.Ecdsa?.Dispose();
        }
    }

    private static Snapshot Load(string directory, string algorithm)
    {
        var written = File.GetLastWriteTimeUtc(Path.Combine(directory, ManifestFileName));
        var manifest = ReadManifest(directory);
        var ordered = manifest.Keys
            .OrderByDescending(entry => entry.Kid == manifest.Current)
            .ThenByDescending(entry => entry.CreatedAt)
            .ToList();
        if (ordered.Count == 0 || ordered[0].Kid != manifest.Current)
        {
            throw new SealException($"Key ring '{directory}': {ManifestFileName} names current key '{manifest.Current}' but does not list it.");
        }

        var keys = ordered.Select(entry => LoadKey(directory, entry.Kid)).ToList();
        if (keys.FirstOrDefault(key => key.Algorithm != algorithm) is { } other)
        {
            throw new SealException($"Key ring '{directory}' holds a {other.Algorithm} key ('{other.KeyId}'); this ring is for {algorithm} keys.");
        }
        return new Snapshot(keys, written);
    }

    private static KeyRingManifest ReadManifest(string directory)
    {
        var path = Path.Combine(directory, ManifestFileName);
        KeyRingManifest manifest;
        try
        {
            manifest = ToexJson.Deserialize<KeyRingManifest>(File.ReadAllText(path));
        }
        catch (JsonException)
        {
            throw new SealException($"Key ring '{directory}': {ManifestFileName} is not a valid key ring manifest.");
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
        {
            throw new SealException($"Key ring '{directory}': {ManifestFileName} cannot be read: {exception.Message}");
        }

        foreach (var kid in manifest.Keys.Select(entry => entry.Kid).Append(manifest.Current))
        {
            // Key ids become file names: only base64url characters (no path separators) are allowed.
            if (string.IsNullOrEmpty(kid) || !Base64Url.IsValid(kid) || kid.Contains('='))
            {
                throw new SealException($"Key ring '{directory}': {ManifestFileName} holds an invalid key id.");
            }
        }

        return manifest;
    }

    private static SigningKey LoadKey(string directory, string keyId)
    {
        var path = KeyPath(directory, keyId);
        var what = $"Key ring '{directory}': key file '{Path.GetFileName(path)}'";
        string json;
        try
        {
            SecureFiles.EnsureOwnerOnly(path, what);
            json = File.ReadAllText(path);
        }
        catch (Exception exception) when (exception is FileNotFoundException or DirectoryNotFoundException)
        {
            throw new SealException($"{what}, named in {ManifestFileName}, is missing.");
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
        {
            throw new SealException($"{what} cannot be read: {exception.Message}");
        }

        var key = SigningKey.FromPrivateJwk(JsonWebKeys.ParseObject(json, what), what);
        if (key.KeyId != keyId)
        {
            key.Ecdsa?.Dispose();
            throw new SealException($"{what} holds key '{key.KeyId}', not '{keyId}'.");
        }

        return key;
    }

    private static string WriteNewKey(string directory, string algorithm)
    {
        var jwk = algorithm == JoseNames.WebhookSignatureAlgorithm
            ? KeyFiles.CreateEd25519PrivateJwk()
            : KeyFiles.CreatePrivateJwk(KeyKind.EC, KeyUse.Signature, keyId: null);
        var keyId = (string)jwk["kid"]!;
        SecureFiles.WriteNew(KeyPath(directory, keyId), JsonWebKeys.ToJson(jwk), isPrivate: true);
        return keyId;
    }

    private static string KeyPath(string directory, string keyId) => Path.Combine(directory, keyId + KeyFiles.PrivateKeySuffix);

    private sealed class Snapshot(IReadOnlyList<SigningKey> keys, DateTime manifestWritten)
    {
        public IReadOnlyList<SigningKey> Keys { get; } = keys;

        public DateTime ManifestWritten { get; } = manifestWritten;

        public string PublicJwks { get; } = JsonWebKeys.ToKeySetJson(keys.Select(key => key.PublicJwkObject));
    }
}
