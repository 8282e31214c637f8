using System.Text;
using Microsoft.Extensions.Options;
using TOEX.Sharing.Contracts;
using TOEX.Sharing.Sealing;
using TOEX.Sharing.ServiceDefaults;

namespace TOEX.Sharing.Audit.Consumers;

/// <summary>
/// Reads a signed decision for the ledger. The ledger records every decision, so one whose signature does
/// not verify is still recorded, marked as such (the gateway releases nothing on it). PolicyDecision's public keys
/// are read once and again whenever their file changes (a rotation), not for every decision.
/// </summary>
public sealed class DecisionReader(IOptions<AuditOptions> options) : IDisposable
{
    private readonly CachedKeyFile<DecisionVerifier> keys = new(
        options.Value.DecisionJwksPath ?? Path.Combine(LocalPaths.Root(), "keys", "policy-decision.jwks.json"),
        jwks => new DecisionVerifier(jwks));

    public (SignedDecision? Decision, bool Verified, string? Why) Read(string jws)
    {
        try
        {
            using var verifier = keys.Use();
            return (verifier.Value.Verify(jws), true, null);
        }
        catch (FileNotFoundException)
        {
            return (Decode(jws), false, $"PolicyDecision's public keys were not found at {keys.Path} (Audit:DecisionJwksPath)");
        }
        catch (SealException e)
        {
            return (Decode(jws), false, e.Message);
        }
    }

    public void Dispose() => keys.Dispose();

    private static SignedDecision? Decode(string jws)
    {
        var parts = jws.Split('.');
        if (parts.Length != 3)
        {
            return null;
        }
        try
        {
            var payload = parts[1].Replace('-', '+').Replace('_', '/');
            payload = payload.PadRight(payload.Length + ((4 - (payload.Length % 4)) % 4), '=');
            return ToexJson.Deserialize<SignedDecision>(Encoding.UTF8.GetString(Convert.FromBase64String(payload)));
        }
        catch (Exception e) when (e is FormatException or System.Text.Json.JsonException)
        {
            return null;
        }
    }
}
