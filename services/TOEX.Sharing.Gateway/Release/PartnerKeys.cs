using System.Collections.Concurrent;
using Microsoft.Extensions.Options;
using TOEX.Sharing.Sealing;
using TOEX.Sharing.ServiceDefaults;

namespace TOEX.Sharing.Gateway.Release;

/// <summary>
/// The partner registry's public keys: <c>PARTNER.jwks.json</c> in one folder. A partner without a usable
/// key gets nothing: its copy is not sealed, so not released.
/// </summary>
public sealed class PartnerKeys(IOptions<GatewayOptions> options)
{
    private readonly string _directory = options.Value.PartnerKeysPath ?? Path.Combine(LocalPaths.Root(), "keys", "partners");
    private readonly ConcurrentDictionary<string, RecipientKey> _keys = new(StringComparer.Ordinal);

    public RecipientKey? Find(string partner)
    {
        if (_keys.TryGetValue(partner, out var key))
        {
            return key;
        }
        if (partner.Length == 0 || partner.AsSpan().IndexOfAny(Path.GetInvalidFileNameChars()) >= 0 || partner.Contains("..", StringComparison.Ordinal))
        {
            return null;
        }
        var file = Path.Combine(_directory, partner + ".jwks.json");
        if (!File.Exists(file))
        {
            return null;
        }
        key = RecipientKey.FromJwks(File.ReadAllText(file));
        return _keys.GetOrAdd(partner, key);
    }
}
