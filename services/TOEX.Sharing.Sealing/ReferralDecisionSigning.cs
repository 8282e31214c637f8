using System.Text.Json;
using TOEX.Sharing.Contracts;

namespace TOEX.Sharing.Sealing;

/// <summary>Signs IG officers' referral decisions at the audit service: compact JWS, ES256, typ <see cref="JoseNames.ReferralDecisionType"/>.</summary>
public sealed class ReferralDecisionSigner(SigningKey key)
{
    public string Sign(SignedReferralDecision decision)
    {
        ArgumentNullException.ThrowIfNull(decision);
        return CompactJws.Sign(ToexJson.SerializeToUtf8Bytes(decision), key, JoseNames.ReferralDecisionType);
    }
}

/// <summary>
/// Verifies referral decisions against the audit service's public JWKS only. Throws <see cref="SealException"/> on
/// a bad signature, an unknown key, another algorithm or type, or a payload that is not a referral decision.
/// The keys are imported once, when it is made; dispose it once nothing verifies with it.
/// </summary>
public sealed class ReferralDecisionVerifier(string trustedJwksJson) : IDisposable
{
    private const string What = "referral decision";

    private readonly TrustedKeys trusted = new(trustedJwksJson, "The audit service's key set");

    public SignedReferralDecision Verify(string jws)
    {
        ArgumentNullException.ThrowIfNull(jws);
        var (payload, _, _) = CompactJws.Verify(jws.Trim(), trusted, JoseNames.ReferralDecisionType, What);
        try
        {
            return ToexJson.Deserialize<SignedReferralDecision>(payload);
        }
        catch (JsonException)
        {
            throw new SealException("The referral decision is signed but its payload is not a valid referral decision.");
        }
    }

    public void Dispose() => trusted.Dispose();
}
