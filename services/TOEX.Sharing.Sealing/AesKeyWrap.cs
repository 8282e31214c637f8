using System.Buffers.Binary;
using System.Security.Cryptography;

namespace TOEX.Sharing.Sealing;

/// <summary>
/// The AES Key Wrap algorithm of RFC 3394 (§2.2.1 wrap, §2.2.2 unwrap, §2.2.3.1 default initial value), as JWE's
/// A128KW/A192KW/A256KW use it (RFC 7518 §4.4): the key encryption key is 16, 24 or 32 bytes, the key data a whole
/// number of 64-bit blocks, at least two.
/// </summary>
internal static class AesKeyWrap
{
    private const ulong DefaultInitialValue = 0xA6A6A6A6A6A6A6A6;
    private const int Steps = 6;

    public static byte[] Wrap(ReadOnlySpan<byte> keyEncryptionKey, ReadOnlySpan<byte> keyData)
    {
        var n = Blocks(keyData.Length);
        // R[1..n] live in the output after its first block (A), so the result is assembled in place.
        var output = new byte[(n + 1) * 8];
        keyData.CopyTo(output.AsSpan(8));
        var a = DefaultInitialValue;
        var input = new byte[16];
        var block = new byte[16];
        using var aes = Create(keyEncryptionKey);
        using var encryptor = aes.CreateEncryptor();
        for (var j = 0; j < Steps; j++)
        {
            for (var i = 1; i <= n; i++)
            {
                // B = AES(K, A | R[i]); A = MSB(64, B) ^ t where t = (n*j)+i; R[i] = LSB(64, B)
                BinaryPrimitives.WriteUInt64BigEndian(input, a);
                output.AsSpan(i * 8, 8).CopyTo(input.AsSpan(8));
                encryptor.TransformBlock(input, 0, 16, block, 0);
                a = BinaryPrimitives.ReadUInt64BigEndian(block) ^ (ulong)((n * j) + i);
                block.AsSpan(8).CopyTo(output.AsSpan(i * 8, 8));
            }
        }

        BinaryPrimitives.WriteUInt64BigEndian(output, a);
        CryptographicOperations.ZeroMemory(input);
        CryptographicOperations.ZeroMemory(block);
        return output;
    }

    /// <summary>Returns the key data, or throws <see cref="CryptographicException"/> when the integrity check fails.</summary>
    public static byte[] Unwrap(ReadOnlySpan<byte> keyEncryptionKey, ReadOnlySpan<byte> wrapped)
    {
        if (wrapped.Length % 8 != 0 || wrapped.Length < 24)
        {
            throw new CryptographicException("The wrapped key is not a whole number of 64-bit blocks, at least three.");
        }

        var n = (wrapped.Length / 8) - 1;
        var keyData = new byte[n * 8];
        wrapped[8..].CopyTo(keyData);
        var a = BinaryPrimitives.ReadUInt64BigEndian(wrapped);
        var input = new byte[16];
        var block = new byte[16];
        using var aes = Create(keyEncryptionKey);
        using var decryptor = aes.CreateDecryptor();
        for (var j = Steps - 1; j >= 0; j--)
        {
            for (var i = n; i >= 1; i--)
            {
                // B = AES-1(K, (A ^ t) | R[i]) where t = n*j+i; A = MSB(64, B); R[i] = LSB(64, B)
                BinaryPrimitives.WriteUInt64BigEndian(input, a ^ (ulong)((n * j) + i));
                keyData.AsSpan((i - 1) * 8, 8).CopyTo(input.AsSpan(8));
                decryptor.TransformBlock(input, 0, 16, block, 0);
                a = BinaryPrimitives.ReadUInt64BigEndian(block);
                block.AsSpan(8).CopyTo(keyData.AsSpan((i - 1) * 8, 8));
            }
        }

        CryptographicOperations.ZeroMemory(input);
        CryptographicOperations.ZeroMemory(block);
        Span<byte> check = stackalloc byte[8];
        Span<byte> expected = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64BigEndian(check, a);
        BinaryPrimitives.WriteUInt64BigEndian(expected, DefaultInitialValue);
        if (!CryptographicOperations.FixedTimeEquals(check, expected))
        {
            CryptographicOperations.ZeroMemory(keyData);
            throw new CryptographicException("The wrapped key fails its integrity check: wrong key encryption key, or altered.");
        }

        return keyData;
    }

    private static int Blocks(int length) =>
        length % 8 == 0 && length >= 16
            ? length / 8
            : throw new ArgumentException("Key data to wrap is a whole number of 64-bit blocks, at least two.", nameof(length));

    private static Aes Create(ReadOnlySpan<byte> keyEncryptionKey)
    {
        if (keyEncryptionKey.Length is not (16 or 24 or 32))
        {
            throw new ArgumentException("An AES key encryption key is 128, 192 or 256 bits.", nameof(keyEncryptionKey));
        }

        var aes = Aes.Create();
        aes.SetKey(keyEncryptionKey);
        aes.Mode = CipherMode.ECB;
        aes.Padding = PaddingMode.None;
        return aes;
    }
}
