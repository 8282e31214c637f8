using System.Buffers.Text;
using System.Text.Json;
using TOEX.Sharing.Contracts;

namespace TOEX.Sharing.Sealing;

/// <summary>
/// Development key custody: a directory (owner-only, git-ignored under <c>.local/</c>) holding one
/// private JWK file per key, <c>KID.private.jwk</c> (0600), and <c>keyring.json</c> naming the
/// current key and when each key was created and retired. Created with one fresh P-256 key on first
/// use. Safe for concurrent readers in several processes; rotate from one process at a time.
/// </summary>
public sealed class LocalKeyRing : IKeyRing, IDisposable
{
    public const string ManifestFileName = "keyring.json";

    private readonly TimeProvider time;
    private readonly Lock gate = new();
    private volatile Snapshot state;

    private LocalKeyRing(string keyDirectory, TimeProvider time, Snapshot state)
    {
        KeyDirectory = keyDirectory;
        this.time = time;
        this.state = state;
    }

    /// <summary>The full path of the ring's directory.</summary>
    public string KeyDirectory { get; }

    public SigningKey Current => state.Keys[0];

    /// <summary>Every key: the current one first, then retired keys, newest first.</summary>
    public IReadOnlyList<SigningKey> All => state.Keys;

    /// <summary>Opens the ring in <paramref name="directory"/>, creating the directory (0700) and a first key if there is none.</summary>
    public static LocalKeyRing OpenOrCreate(string directory, TimeProvider time)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(directory);
        ArgumentNullException.ThrowIfNull(time);
        directory = Path.GetFullPath(directory);
        SecureFiles.CreatePrivateDirectory(directory);
        var manifestPath = Path.Combine(directory, ManifestFileName);
        if (!File.Exists(manifestPath))
        {
            var keyId = WriteNewKey(directory);
            var manifest = new KeyRingManifest(keyId, [new KeyRingEntry(keyId, time.GetUtcNow(), null)]);
            if (!SecureFiles.WriteAtomically(manifestPath, ToexJson.Serialize(manifest), isPrivate: true, overwrite: false))
            {
                // Another process created the ring at the same moment: use its key, drop ours.
                File.Delete(KeyPath(directory, keyId));
            }
        }

        return new LocalKeyRing(directory, time, Load(directory));
    }

    public string PublicJwks() => state.PublicJwks;

    public SigningKey? Find(string kid) => state.Keys.FirstOrDefault(key => key.KeyId == kid);

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
            var keyId = WriteNewKey(KeyDirectory);
            var entries = new List<KeyRingEntry> { new(keyId, now, null) };
            entries.AddRange(manifest.Keys.Select(entry => entry.Kid == manifest.Current ? entry with { RetiredAt = now } : entry));
            SecureFiles.WriteAtomically(manifestPath, ToexJson.Serialize(new KeyRingManifest(keyId, entries)), isPrivate: true, overwrite: true);

            var key = LoadKey(KeyDirectory, keyId);
            state = new Snapshot([key, .. state.Keys]);
            return key;
        }
    }

    public void Dispose()
    {
        foreach (var key in state.Keys)
        {
            key.Ecdsa.Dispose();
        }
    }

    private static Snapshot Load(string directory)
    {
        var manifest = ReadManifest(directory);
        var ordered = manifest.Keys
            .OrderByDescending(entry => entry.Kid == manifest.Current)
            .ThenByDescending(entry => entry.CreatedAt)
            .ToList();
        if (ordered.Count == 0 || ordered[0].Kid != manifest.Current)
        {
            throw new SealException($"Key ring '{directory}': {ManifestFileName} names current key '{manifest.Current}' but does not list it.");
        }

        return new Snapshot(ordered.Select(entry => LoadKey(directory, entry.Kid)).ToList());
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
            key.Ecdsa.Dispose();
            throw new SealException($"{what} holds key '{key.KeyId}', not '{keyId}'.");
        }

        return key;
    }

    private static string WriteNewKey(string directory)
    {
        var jwk = KeyFiles.CreatePrivateJwk(KeyKind.EC, KeyUse.Signature, keyId: null);
        var keyId = (string)jwk["kid"]!;
        SecureFiles.WriteNew(KeyPath(directory, keyId), JsonWebKeys.ToJson(jwk), isPrivate: true);
        return keyId;
    }

    private static string KeyPath(string directory, string keyId) => Path.Combine(directory, keyId + KeyFiles.PrivateKeySuffix);

    private sealed class Snapshot(IReadOnlyList<SigningKey> keys)
    {
        public IReadOnlyList<SigningKey> Keys { get; } = keys;

        public string PublicJwks { get; } = JsonWebKeys.ToKeySetJson(keys.Select(key => key.PublicJwkObject));
    }
}
