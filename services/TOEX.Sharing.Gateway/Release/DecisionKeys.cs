using Microsoft.Extensions.Options;
using TOEX.Sharing.Contracts;
using TOEX.Sharing.Sealing;
using TOEX.Sharing.ServiceDefaults;

namespace TOEX.Sharing.Gateway.Release;

/// <summary>
/// The gateway cannot read PolicyDecision's public keys (the file is missing, unreadable or not a key set): a fault
/// of the gateway's configuration, not of the decision. The decision is retried (and, after its retries, waits in the
/// error queue to be moved back), never refused for it.
/// </summary>
public sealed class DecisionKeysUnavailableException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>
/// Verifies decisions against PolicyDecision's public JWKS only. The file is read again when it changes (and when a
/// decision fails to verify, so a rotated key is picked up at once); a decision that still fails is refused.
/// </summary>
public sealed class DecisionKeys(IOptions<GatewayOptions> options)
{
    private readonly string _path = options.Value.DecisionJwksPath ?? Path.Combine(LocalPaths.Root(), "keys", "policy-decision.jwks.json");
    private volatile Loaded? _loaded;

    private sealed record Loaded(DecisionVerifier Verifier, FileStamp Stamp);

    /// <summary>The verified decision; <see cref="SealException"/> when it does not verify, <see cref="DecisionKeysUnavailableException"/> when the keys cannot be read.</summary>
    public SignedDecision Verify(string jws)
    {
        var verifier = Current(forceReload: false);
        try
        {
            return verifier.Verify(jws);
        }
        catch (SealException)
        {
            return Current(forceReload: true).Verify(jws);
        }
    }

    private DecisionVerifier Current(bool forceReload)
    {
        var stamp = FileStamp.Of(_path)
            ?? throw new DecisionKeysUnavailableException($"PolicyDecision's public keys are not at {_path} (Gateway:DecisionJwksPath).");
        if (!forceReload && _loaded is { } loaded && loaded.Stamp == stamp)
        {
            return loaded.Verifier;
        }
        try
        {
            var verifier = new DecisionVerifier(File.ReadAllText(_path));
            _loaded = new Loaded(verifier, stamp);
            return verifier;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or SealException)
        {
            throw new DecisionKeysUnavailableException($"PolicyDecision's public keys at {_path} cannot be read: {e.Message}", e);
        }
    }
}

/// <summary>When a file was last written and how long it is: a change to either means it must be read again.</summary>
public readonly record struct FileStamp(DateTime LastWriteUtc, long Length)
{
    public static FileStamp? Of(string path)
    {
        var file = new FileInfo(path);
        return file.Exists ? new FileStamp(file.LastWriteTimeUtc, file.Length) : null;
    }
}
