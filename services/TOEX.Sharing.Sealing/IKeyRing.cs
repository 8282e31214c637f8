namespace TOEX.Sharing.Sealing;

/// <summary>
/// Key custody: the signing keys of one service. <see cref="Current"/> signs; every key in
/// <see cref="All"/> (current and retired) is published so that what older keys signed still verifies.
/// Implemented by <see cref="LocalKeyRing"/> (development); PKCS#11 and Azure Key Vault rings fit the same shape.
/// </summary>
public interface IKeyRing
{
    SigningKey Current { get; }

    IReadOnlyList<SigningKey> All { get; }

    /// <summary>The public JWKS (<c>{"keys":[…]}</c>), current key first, public members only.</summary>
    string PublicJwks();

    SigningKey? Find(string kid);
}
