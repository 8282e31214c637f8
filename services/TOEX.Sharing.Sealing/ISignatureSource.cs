namespace TOEX.Sharing.Sealing;

/// <summary>
/// Where a <see cref="SigningKey"/>'s private key is: something that signs with it and never hands it out
/// (a PKCS#11 token, a key vault, or the local key ring's file). Implemented by the key custody providers.
/// </summary>
public interface ISignatureSource
{
    /// <summary>
    /// Signs <paramref name="data"/> (the whole message, not a digest): ES256 as IEEE P1363 <c>r || s</c>
    /// (64 bytes), EdDSA as the 64-byte Ed25519 signature.
    /// </summary>
    byte[] Sign(ReadOnlySpan<byte> data);
}
