using System.Collections.Concurrent;
using Microsoft.Extensions.Options;
using TOEX.Sharing.Sealing;
using TOEX.Sharing.ServiceDefaults;

namespace TOEX.Sharing.Gateway.Release;

/// <summary>A partner's encryption key, or why there is none to seal its copy with.</summary>
public sealed record PartnerKey(RecipientKey? Key, string? Problem);

/// <summary>
/// The partner registry's public keys: <c>PARTNER.jwks.json</c> in one folder, read again whenever the file changes.
/// A partner without a usable key gets nothing: its copy is not sealed, so not released, and the reason is given for
/// that partner alone (a malformed file fails its own partner, never the package's other recipients).
/// </summary>
public sealed class PartnerKeys(IOptions<GatewayOptions> options)
{
    private readonly string _directory = options.Value.PartnerKeysPath ?? Path.Combine(LocalPaths.Root(), "keys", "partners");
    private readonly ConcurrentDictionary<string, (FileStamp Stamp, PartnerKey Key)> _keys = new(StringComparer.Ordinal);

    public PartnerKey Find(string partner)
    {
        if (partner.Length == 0 || partner.AsSpan().IndexOfAny(Path.GetInvalidFileNameChars()) >= 0 || partner.Contains("..", StringComparison.Ordinal))
        {
            return new PartnerKey(null, "The partner id cannot name a key file.");
        }
        var file = Path.Combine(_directory, partner + ".jwks.json");
        if (FileStamp.Of(file) is not { } stamp)
        {
            _keys.TryRemove(partner, out _);
            return new PartnerKey(null, "No encryption key is registered for this partner.");
        }
        if (_keys.TryGetValue(partner, out var cached) && cached.Stamp == stamp)
        {
            return cached.Key;
        }
        PartnerKey key;
        try
        {
            key = new PartnerKey(RecipientKey.FromJwks(File.ReadAllText(file)), null);
        }
        catch (Exception e) when (e is SealException or IOException or UnauthorizedAccessException)
        {
            // The reason names the file, never its content.
            key = new PartnerKey(null, $"The partner's registered key set ({partner}.jwks.json) is unusable: {Describe(e)}");
        }
        _keys[partner] = (stamp, key);
        return key;
    }

    private static string Describe(Exception e) => e is SealException ? e.Message : "it cannot be read.";
}
