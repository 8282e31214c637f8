using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;

namespace TOEX.Sharing.Sealing;

/// <summary>
/// The key agreement of JWE's ECDH-ES (RFC 7518 §4.6.2): the Concat KDF of NIST SP 800-56A §5.8.1 over the shared
/// secret Z, with SHA-256. Keys of up to 256 bits take one round: <c>SHA-256(counter 1 || Z || OtherInfo)</c>, where
/// OtherInfo is AlgorithmID, PartyUInfo and PartyVInfo (each a 32-bit big-endian length and its bytes) and SuppPubInfo
/// (the key length in bits, 32-bit big-endian). Z itself never leaves the platform's ECDH (it is hashed there).
/// </summary>
internal static class ConcatKdf
{
    private static readonly byte[] FirstRound = [0, 0, 0, 1];

    /// <param name="own">The party's private key (the sender's ephemeral key, or the recipient's key).</param>
    /// <param name="other">The other party's public key.</param>
    /// <param name="algorithmId">
    /// The <c>alg</c> header value when the key wraps a content key (e.g. <c>ECDH-ES+A256KW</c>), the <c>enc</c> value
    /// in direct key agreement.
    /// </param>
    /// <param name="keyBits">The length of the key derived, in bits: a multiple of 8, at most 256.</param>
    public static byte[] DeriveKey(ECDiffieHellman own, ECDiffieHellmanPublicKey other, string algorithmId, int keyBits,
        ReadOnlySpan<byte> partyUInfo, ReadOnlySpan<byte> partyVInfo)
    {
        ArgumentNullException.ThrowIfNull(own);
        ArgumentNullException.ThrowIfNull(other);
        if (keyBits is <= 0 or > 256 || keyBits % 8 != 0)
        {
            throw new ArgumentOutOfRangeException(nameof(keyBits), "One round of SHA-256 derives keys of 8 to 256 bits, in whole bytes.");
        }

        var derived = own.DeriveKeyFromHash(other, HashAlgorithmName.SHA256, FirstRound, OtherInfo(algorithmId, keyBits, partyUInfo, partyVInfo));
        if (keyBits == 256)
        {
            return derived;
        }

        var key = derived[..(keyBits / 8)];
        CryptographicOperations.ZeroMemory(derived);
        return key;
    }

    internal static byte[] OtherInfo(string algorithmId, int keyBits, ReadOnlySpan<byte> partyUInfo, ReadOnlySpan<byte> partyVInfo)
    {
        var algorithm = Encoding.ASCII.GetByteCount(algorithmId);
        var info = new byte[4 + algorithm + 4 + partyUInfo.Length + 4 + partyVInfo.Length + 4];
        var at = 0;
        BinaryPrimitives.WriteInt32BigEndian(info.AsSpan(at), algorithm);
        at += 4;
        at += Encoding.ASCII.GetBytes(algorithmId, info.AsSpan(at));
        BinaryPrimitives.WriteInt32BigEndian(info.AsSpan(at), partyUInfo.Length);
        at += 4;
        partyUInfo.CopyTo(info.AsSpan(at));
        at += partyUInfo.Length;
        BinaryPrimitives.WriteInt32BigEndian(info.AsSpan(at), partyVInfo.Length);
        at += 4;
        partyVInfo.CopyTo(info.AsSpan(at));
        at += partyVInfo.Length;
        BinaryPrimitives.WriteInt32BigEndian(info.AsSpan(at), keyBits);
        return info;
    }
}
