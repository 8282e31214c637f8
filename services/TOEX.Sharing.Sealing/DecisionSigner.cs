using TOEX.Sharing.Contracts;

namespace TOEX.Sharing.Sealing;

/// <summary>Signs PolicyDecision's decisions: compact JWS, ES256, typ <see cref="JoseNames.DecisionType"/>, payload the <see cref="ToexJson"/> bytes.</summary>
public sealed class DecisionSigner(SigningKey key)
{
    public string Sign(SignedDecision decision)
    {
        ArgumentNullException.ThrowIfNull(decision);
        return CompactJws.Sign(ToexJson.SerializeToUtf8Bytes(decision), key, JoseNames.DecisionType);
    }
}
