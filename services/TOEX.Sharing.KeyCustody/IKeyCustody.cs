namespace TOEX.Sharing.KeyCustody;

/// <summary>
/// The keys of one purpose, wherever they are kept: sign with one of them, wrap and unwrap a data key, publish
/// the public keys, rotate. The private (or secret) keys never leave the custody; only signatures, wrapped keys,
/// unwrapped data keys and public keys come out. Keys are named by <c>kid</c>: the RFC 7638 thumbprint of the
/// public key for a key pair, a random id for a secret key.
/// </summary>
public interface IKeyCustody : IDisposable
{
    KeyPurpose Purpose { get; }

    /// <summary>The provider's setting name: <c>local</c>, <c>pkcs11</c> or <c>azure-keyvault</c>.</summary>
    string Provider { get; }

    /// <summary>Every key, the current one first, then retired keys newest first (a rotation made elsewhere is seen within the refresh interval).</summary>
    IReadOnlyList<CustodyKey> Keys { get; }

    /// <summary>Signs <paramref name="data"/> with key <paramref name="keyId"/> (ES256: P1363 r||s; EdDSA: Ed25519).</summary>
    /// <exception cref="KeyCustodyException">Not a signing purpose, an unknown key, or the module or vault failed.</exception>
    byte[] Sign(string keyId, ReadOnlySpan<byte> data);

    /// <summary>Wraps a data key (e.g. a per-package AES-256 key) with the current key; the result names the key and algorithm.</summary>
    WrappedKey Wrap(ReadOnlySpan<byte> dataKey);

    /// <summary>Unwraps a data key with the key that wrapped it, current or retired.</summary>
    /// <exception cref="KeyCustodyException">Unknown key, altered wrapped bytes, or the module or vault failed.</exception>
    byte[] Unwrap(WrappedKey wrapped);

    /// <summary>The public keys (<c>{"keys":[…]}</c>), current first; empty for a secret-key purpose.</summary>
    string PublicJwks();

    /// <summary>Makes a new key (generated inside the custody) current; earlier keys stay for verifying and unwrapping.</summary>
    CustodyKey Rotate();
}

/// <summary>One key of a custody: its id, algorithm, public JWK (null for a secret key) and, where the provider records them, when it was made and retired.</summary>
public sealed record CustodyKey(string KeyId, string Algorithm, string? PublicJwk, DateTimeOffset? CreatedAt, DateTimeOffset? RetiredAt);

/// <summary>A data key wrapped by a custody key: which key, how (e.g. <c>A256KW-PAD</c>, <c>RSA-OAEP-256</c>, <c>A256GCM</c>), and the bytes.</summary>
public sealed record WrappedKey(string KeyId, string Algorithm, byte[] Value);

/// <summary>A custody operation failed: the message says which setting, key or module, never key material.</summary>
public sealed class KeyCustodyException : Exception
{
    public KeyCustodyException(string message)
        : base(message)
    {
    }

    public KeyCustodyException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    public KeyCustodyException()
    {
    }
}
