using Microsoft.Extensions.Options;
using TOEX.Sharing.Contracts;
using TOEX.Sharing.Sealing;
using TOEX.Sharing.ServiceDefaults;

namespace TOEX.Sharing.Gateway.Release;

/// <summary>
/// The gateway cannot read another service's public keys (the file is missing, unreadable or not a key set): a fault
/// of the gateway's configuration, not of the message. The message is retried (and, after its retries, waits in the
/// error queue to be moved back), never refused for it.
/// </summary>
public sealed class TrustedKeysUnavailableException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>
/// A public JWKS file of another service and the verifier built from it (<see cref="CachedKeyFile{T}"/>: read again when
/// the file changes, and a replaced verifier disposed once no verification holds it).
/// </summary>
public sealed class TrustedKeyFile<TVerifier>(string path, string description, Func<string, TVerifier> create) : IDisposable
    where TVerifier : class, IDisposable
{
    private readonly CachedKeyFile<TVerifier> _file = new(path, create);

    /// <summary>Verifies with the keys as read; when that fails, reads them again (a key rotated since) and verifies once more.</summary>
    public TResult Verify<TResult>(Func<TVerifier, TResult> verify)
    {
        try
        {
            using var keys = Use(reread: false);
            return verify(keys.Value);
        }
        catch (SealException)
        {
            using var keys = Use(reread: true);
            return verify(keys.Value);
        }
    }

    public void Dispose() => _file.Dispose();

    private CachedKeyFile<TVerifier>.Lease Use(bool reread)
    {
        try
        {
            return _file.Use(reread);
        }
        catch (FileNotFoundException e)
        {
            throw new TrustedKeysUnavailableException($"{description} are not at {path}.", e);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or SealException)
        {
            throw new TrustedKeysUnavailableException($"{description} at {path} cannot be read: {e.Message}", e);
        }
    }
}

/// <summary>Verifies decisions against PolicyDecision's public JWKS only (<c>Gateway:DecisionJwksPath</c>); a decision that fails is refused.</summary>
public sealed class DecisionKeys(IOptions<GatewayOptions> options) : IDisposable
{
    private readonly TrustedKeyFile<DecisionVerifier> _file = new(
        options.Value.DecisionJwksPath ?? Path.Combine(LocalPaths.Root(), "keys", "policy-decision.jwks.json"),
        "PolicyDecision's public keys (Gateway:DecisionJwksPath)", jwks => new DecisionVerifier(jwks));

    /// <summary>The verified decision; <see cref="SealException"/> when it does not verify, <see cref="TrustedKeysUnavailableException"/> when the keys cannot be read.</summary>
    public SignedDecision Verify(string jws) => _file.Verify(verifier => verifier.Verify(jws));

    public void Dispose() => _file.Dispose();
}

/// <summary>
/// Verifies IG officers' referral decisions against the audit service's public JWKS only (<c>Gateway:AuditJwksPath</c>):
/// an unsigned or forged <c>ReferralDecided</c> releases nothing.
/// </summary>
public sealed class AuditKeys(IOptions<GatewayOptions> options) : IDisposable
{
    private readonly TrustedKeyFile<ReferralDecisionVerifier> _file = new(
        options.Value.AuditJwksPath ?? Path.Combine(LocalPaths.Root(), "keys", "audit.jwks.json"),
        "The audit service's public keys (Gateway:AuditJwksPath)", jwks => new ReferralDecisionVerifier(jwks));

    public SignedReferralDecision Verify(string jws) => _file.Verify(verifier => verifier.Verify(jws));

    public void Dispose() => _file.Dispose();
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
