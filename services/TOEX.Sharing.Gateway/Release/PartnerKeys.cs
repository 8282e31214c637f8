using System.Collections.Concurrent;
using Microsoft.Extensions.Options;
using TOEX.Sharing.Sealing;
using TOEX.Sharing.ServiceDefaults;

namespace TOEX.Sharing.Gateway.Release;

/// <summary>A partner's encryption key, or why there is none to seal its copy with.</summary>
public sealed record PartnerKey(RecipientKey? Key, string? Problem);

/// <summary>
/// The partner registry's public keys: <c>PARTNER.jwks.json</c> in one folder, read again whenever the file changes.
/// Each entry is a key set whose keys may carry a not-before and an expiry, and a list of revoked keys
/// (<see cref="RecipientKeySet"/>); a copy is sealed to the partner's newest key valid at the instant of its release.
/// A partner without a valid key gets nothing: its copy is not sealed, so not released, and the reason is given for
/// that partner alone (a malformed file fails its own partner, never the package's other recipients).
/// Changes go through <see cref="PartnerKeyRegistry"/>.
/// </summary>
public sealed class PartnerKeys(IOptions<GatewayOptions> options)
{
    private readonly ConcurrentDictionary<string, (FileStamp Stamp, PartnerKeySetRead Read)> _sets = new(StringComparer.Ordinal);

    /// <summary>The registry folder.</summary>
    public string Directory { get; } = options.Value.PartnerKeysPath ?? Path.Combine(LocalPaths.Root(), "keys", "partners");

    /// <summary>The key the partner's copies are sealed to at <paramref name="now"/>, or why there is none.</summary>
    public PartnerKey Find(string partner, DateTimeOffset now)
    {
        var (set, problem) = Read(partner);
        if (set is null)
        {
            return new PartnerKey(null, problem);
        }
        var (key, none) = set.Select(now);
        return new PartnerKey(key, none);
    }

    /// <summary>The partner's key set as the registry holds it (empty when it has no file), or why it cannot be read.</summary>
    public PartnerKeySetRead Read(string partner)
    {
        if (FileOf(partner) is not { } file)
        {
            return new PartnerKeySetRead(null, "The partner id cannot name a key file.");
        }
        if (FileStamp.Of(file) is not { } stamp)
        {
            _sets.TryRemove(partner, out _);
            return new PartnerKeySetRead(RecipientKeySet.Empty(), null);
        }
        if (_sets.TryGetValue(partner, out var cached) && cached.Stamp == stamp)
        {
            return cached.Read;
        }
        var read = ReadFile(partner, file);
        _sets[partner] = (stamp, read);
        return read;
    }

    /// <summary>The partner's file, or null when the id cannot name one.</summary>
    public string? FileOf(string partner) =>
        partner.Length == 0 || partner.AsSpan().IndexOfAny(Path.GetInvalidFileNameChars()) >= 0 || partner.Contains("..", StringComparison.Ordinal)
            || partner.StartsWith('.')
            ? null
            : Path.Combine(Directory, partner + KeyFiles.PublicKeySetSuffix);

    /// <summary>Reads the file now, whatever is cached (the registry's writer, under its lock).</summary>
    internal static PartnerKeySetRead ReadFile(string partner, string file)
    {
        try
        {
            return new PartnerKeySetRead(RecipientKeySet.Parse(File.ReadAllText(file)), null);
        }
        catch (FileNotFoundException)
        {
            return new PartnerKeySetRead(RecipientKeySet.Empty(), null);
        }
        catch (Exception e) when (e is SealException or IOException or UnauthorizedAccessException)
        {
            // The reason names the file, never its content.
            return new PartnerKeySetRead(null, $"The partner's registered key set ({partner}{KeyFiles.PublicKeySetSuffix}) is unusable: "
                + (e is SealException ? e.Message : "it cannot be read."));
        }
    }
}

/// <summary>A partner's key set, or why its file cannot be used (then no key of it is used).</summary>
public sealed record PartnerKeySetRead(RecipientKeySet? Set, string? Problem);
