namespace TOEX.Sharing.Sealing;

/// <summary>
/// What a generated key is for: <see cref="Encryption"/> (a partner's key, JWK <c>use</c> "enc") or
/// <see cref="Signature"/> (a broker or policy signing key, JWK <c>use</c> "sig", ES256 only).
/// </summary>
public enum KeyUse
{
    Encryption,
    Signature,
}
