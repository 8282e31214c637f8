using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;

namespace TOEX.Sharing.Ledger;

/// <summary>
/// The ledger's signed statement "at <see cref="Timestamp"/> the tree held <see cref="TreeSize"/>
/// leaves with root <see cref="RootHash"/>", signed ES256 by key <see cref="KeyId"/>.
/// <see cref="Signature"/> is over <see cref="ToSignedBytes"/>, in IEEE P1363 form (r || s, 64 bytes),
/// as JWS ES256 uses. Equality compares the bytes of the hashes and signature.
/// </summary>
/// <param name="TreeSize">Number of leaves.</param>
/// <param name="RootHash">MTH of those leaves, 32 bytes.</param>
/// <param name="Timestamp">When the head was made, in whole milliseconds (see <see cref="Create"/>).</param>
/// <param name="KeyId">The signing key's id in the key ring, 1 to 255 bytes of UTF-8.</param>
/// <param name="Signature">ES256 signature over <see cref="ToSignedBytes"/>; empty until signed.</param>
public sealed record SignedTreeHead(long TreeSize, byte[] RootHash, DateTimeOffset Timestamp, string KeyId, byte[] Signature)
{
    /// <summary>Current version of <see cref="ToSignedBytes"/>.</summary>
    public const byte EncodingVersion = 1;

    /// <summary>Length of an ES256 signature in IEEE P1363 form.</summary>
    public const int SignatureSize = 64;

    private const int MaxKeyIdBytes = byte.MaxValue;
    private const string NistP256Oid = "1.2.840.10045.3.1.7";

    // Rejects lone surrogates rather than replacing them, so two different key ids never encode alike.
    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    // All base64url characters: with the version byte that follows, the encoding can never be read as a
    // JWS signing input (base64url '.' base64url), the other thing the broker's keys sign.
    private static ReadOnlySpan<byte> Magic => "TOEX-STH"u8;

    /// <summary>
    /// An unsigned head, ready for <see cref="ToSignedBytes"/>: the timestamp is cut to whole milliseconds
    /// in UTC, which is all the encoding carries. Sign, then set <see cref="Signature"/> with <c>with</c>.
    /// </summary>
    public static SignedTreeHead Create(long treeSize, ReadOnlySpan<byte> rootHash, DateTimeOffset timestamp, string keyId) =>
        new(treeSize, rootHash.ToArray(), DateTimeOffset.FromUnixTimeMilliseconds(timestamp.ToUnixTimeMilliseconds()), keyId, []);

    /// <summary>
    /// The bytes the signature covers, version 1. Big-endian integers, no padding:
    /// <code>
    /// offset  size  field
    ///      0     8  "TOEX-STH" (ASCII)
    ///      8     1  version = 0x01
    ///      9     8  tree size (uint64)
    ///     17     8  timestamp, milliseconds since 1970-01-01T00:00:00Z (uint64)
    ///     25    32  root hash
    ///     57     1  L = length of the key id in bytes (1..255)
    ///     58     L  key id (UTF-8)
    /// </code>
    /// Every field but the last has a fixed size and the last is length-prefixed, so two different
    /// heads never encode alike.
    /// </summary>
    /// <exception cref="InvalidOperationException">
    /// A field cannot be encoded: negative size, root not 32 bytes, timestamp before 1970 or not whole
    /// milliseconds, key id empty or over 255 bytes.
    /// </exception>
    public byte[] ToSignedBytes() =>
        TryEncode(out var encoded, out var error) ? encoded : throw new InvalidOperationException(error);

    /// <summary>
    /// Whether <see cref="Signature"/> is an ES256 signature by <paramref name="publicKey"/> (a P-256 key)
    /// over <see cref="ToSignedBytes"/>. A head that cannot be encoded does not verify.
    /// </summary>
    public bool VerifySignature(ECDsa publicKey)
    {
        ArgumentNullException.ThrowIfNull(publicKey);
        if (Signature is not { Length: SignatureSize } || !IsP256(publicKey) || !TryEncode(out var encoded, out _))
        {
            return false;
        }

        return publicKey.VerifyData(encoded, Signature, HashAlgorithmName.SHA256, DSASignatureFormat.IeeeP1363FixedFieldConcatenation);
    }

    public bool Equals(SignedTreeHead? other) =>
        other is not null
        && TreeSize == other.TreeSize
        && Timestamp.Equals(other.Timestamp)
        && string.Equals(KeyId, other.KeyId, StringComparison.Ordinal)
        && Same(RootHash, other.RootHash)
        && Same(Signature, other.Signature);

    public override int GetHashCode() => HashCode.Combine(TreeSize, Timestamp, KeyId);

    private bool TryEncode(out byte[] encoded, out string? error)
    {
        encoded = [];
        error = Validate();
        if (error is not null)
        {
            return false;
        }

        var keyIdLength = StrictUtf8.GetByteCount(KeyId);
        encoded = new byte[Magic.Length + 1 + 8 + 8 + MerkleHash.Size + 1 + keyIdLength];
        var span = encoded.AsSpan();
        Magic.CopyTo(span);
        span = span[Magic.Length..];
        span[0] = EncodingVersion;
        BinaryPrimitives.WriteUInt64BigEndian(span[1..], (ulong)TreeSize);
        BinaryPrimitives.WriteUInt64BigEndian(span[9..], (ulong)Timestamp.ToUnixTimeMilliseconds());
        RootHash.CopyTo(span[17..]);
        span[17 + MerkleHash.Size] = (byte)keyIdLength;
        StrictUtf8.GetBytes(KeyId, span[(18 + MerkleHash.Size)..]);
        return true;
    }

    private string? Validate()
    {
        if (TreeSize < 0)
        {
            return $"The tree size is negative ({TreeSize}).";
        }

        if (RootHash is not { Length: MerkleHash.Size })
        {
            return $"The root hash must be {MerkleHash.Size} bytes.";
        }

        if (Timestamp < DateTimeOffset.UnixEpoch)
        {
            return "The timestamp is before 1970-01-01T00:00:00Z.";
        }

        if ((Timestamp.UtcTicks - DateTimeOffset.UnixEpoch.UtcTicks) % TimeSpan.TicksPerMillisecond != 0)
        {
            return "The timestamp has a fraction of a millisecond, which the encoding cannot carry; use SignedTreeHead.Create.";
        }

        return string.IsNullOrEmpty(KeyId) || KeyIdByteCount(KeyId) is not (> 0 and <= MaxKeyIdBytes)
            ? $"The key id must be 1 to {MaxKeyIdBytes} bytes of valid UTF-8."
            : null;
    }

    private static int KeyIdByteCount(string keyId)
    {
        try
        {
            return StrictUtf8.GetByteCount(keyId);
        }
        catch (EncoderFallbackException)
        {
            return -1;
        }
    }

    private static bool IsP256(ECDsa key)
    {
        var curve = key.ExportParameters(includePrivateParameters: false).Curve;
        return curve.IsNamed && (curve.Oid.Value == NistP256Oid || curve.Oid.FriendlyName is "nistP256" or "ECDSA_P256");
    }

    private static bool Same(byte[]? a, byte[]? b) =>
        a is null || b is null ? ReferenceEquals(a, b) : a.AsSpan().SequenceEqual(b);
}
