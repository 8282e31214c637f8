using System.Text.Json;
using TOEX.Sharing.Contracts;

namespace TOEX.Sharing.Sealing;

/// <summary>
/// Verifies decisions signed by PolicyDecision against its public JWKS (what the gateway is
/// configured with). Throws <see cref="SealException"/> on a bad signature, an unknown key id, an
/// algorithm other than ES256, another type, or a payload that is not a <see cref="SignedDecision"/>.
/// The keys are imported once, when it is made; verifying is safe from several threads at once. Dispose it once
/// nothing verifies with it.
/// </summary>
public sealed class DecisionVerifier : IDisposable
{
    private const string What = "decision";

    private readonly TrustedKeys trusted;

    public DecisionVerifier(string trustedJwksJson)
    {
        trusted = new TrustedKeys(trustedJwksJson, "The policy service's key set");
    }

    public SignedDecision Verify(string jws)
    {
        ArgumentNullException.ThrowIfNull(jws);
        var (payload, _, _) = CompactJws.Verify(jws.Trim(), trusted, JoseNames.DecisionType, What);
        try
        {
            return ToexJson.Deserialize<SignedDecision>(payload);
        }
        catch (JsonException)
        {
            throw new SealException("The decision is signed but its payload is not a valid decision.");
        }
    }

    public void Dispose() => trusted.Dispose();
}
