using Microsoft.Extensions.Options;
using TOEX.Sharing.Contracts;
using TOEX.Sharing.Sealing;
using TOEX.Sharing.ServiceDefaults;

namespace TOEX.Sharing.Gateway.Release;

/// <summary>
/// Verifies decisions against PolicyDecision's public JWKS only. The file is read again when a decision
/// fails to verify, so a rotated key is picked up; a decision that still fails is refused.
/// </summary>
public sealed class DecisionKeys(IOptions<GatewayOptions> options)
{
    private readonly string _path = options.Value.DecisionJwksPath ?? Path.Combine(LocalPaths.Root(), "keys", "policy-decision.jwks.json");
    private DecisionVerifier? _verifier;

    public SignedDecision Verify(string jws)
    {
        var verifier = _verifier ??= Load();
        try
        {
            return verifier.Verify(jws);
        }
        catch (SealException)
        {
            _verifier = Load();
            return _verifier.Verify(jws);
        }
    }

    private DecisionVerifier Load() => File.Exists(_path)
        ? new DecisionVerifier(File.ReadAllText(_path))
        : throw new SealException($"PolicyDecision's public keys are not at {_path} (Gateway:DecisionJwksPath).");
}
