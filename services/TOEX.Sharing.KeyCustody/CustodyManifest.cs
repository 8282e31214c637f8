using System.Text.Json;
using TOEX.Sharing.Contracts;

namespace TOEX.Sharing.KeyCustody;

/// <summary>
/// Which keys a purpose has in a module, which is current, and when each was made and retired: kept beside the keys
/// (a PKCS#11 data object), in the same shape as a local ring's <c>keyring.json</c>.
/// </summary>
internal sealed record CustodyManifest(string Current, IReadOnlyList<CustodyManifestEntry> Keys)
{
    public static CustodyManifest First(string keyId, DateTimeOffset now) => new(keyId, [new CustodyManifestEntry(keyId, now, null)]);

    /// <summary>A new current key; the previous current key is retired now and kept.</summary>
    public CustodyManifest With(string keyId, DateTimeOffset now) =>
        new(keyId, [new CustodyManifestEntry(keyId, now, null), .. Keys.Select(k => k.Kid == Current ? k with { RetiredAt = now } : k)]);

    /// <summary>The entries, current first, then the others newest first.</summary>
    public IEnumerable<CustodyManifestEntry> Ordered() =>
        Keys.OrderByDescending(k => k.Kid == Current).ThenByDescending(k => k.CreatedAt);

    public byte[] ToBytes() => ToexJson.SerializeToUtf8Bytes(this);

    public static CustodyManifest Parse(byte[] bytes, string where)
    {
        try
        {
            var manifest = ToexJson.Deserialize<CustodyManifest>(bytes);
            return manifest.Keys.Any(k => k.Kid == manifest.Current)
                ? manifest
                : throw new KeyCustodyException($"{where}: the key list does not name its current key.");
        }
        catch (JsonException)
        {
            throw new KeyCustodyException($"{where}: the key list is not valid JSON.");
        }
    }
}

internal sealed record CustodyManifestEntry(string Kid, DateTimeOffset CreatedAt, DateTimeOffset? RetiredAt);

/// <summary>A provider's key list, read again at most every refresh interval (by the injected clock), or at once after a change here.</summary>
internal sealed class RefreshingKeys(TimeProvider time, TimeSpan interval, Func<IReadOnlyList<CustodyKey>> load)
{
    private readonly Lock gate = new();
    private (IReadOnlyList<CustodyKey> Keys, long ReadAt)? snapshot;

    public IReadOnlyList<CustodyKey> Get()
    {
        var current = snapshot;
        if (current is { } fresh && time.GetElapsedTime(fresh.ReadAt) < interval)
        {
            return fresh.Keys;
        }
        lock (gate)
        {
            if (snapshot is { } again && time.GetElapsedTime(again.ReadAt) < interval)
            {
                return again.Keys;
            }
            var keys = load();
            snapshot = (keys, time.GetTimestamp());
            return keys;
        }
    }

    public void Invalidate()
    {
        lock (gate)
        {
            snapshot = null;
        }
    }
}
