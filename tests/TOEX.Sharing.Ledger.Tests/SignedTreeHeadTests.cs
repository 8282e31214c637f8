using System.Security.Cryptography;

namespace TOEX.Sharing.Ledger.Tests;

public sealed class SignedTreeHeadTests
{
    private static readonly DateTimeOffset Timestamp = new(2026, 3, 1, 12, 34, 56, 789, TimeSpan.Zero);

    private static readonly SignedTreeHead Unsigned =
        SignedTreeHead.Create(42, [.. Enumerable.Range(0, 32).Select(i => (byte)i)], Timestamp, "ledger-2026");

    [Fact]
    public void Signed_bytes_are_the_documented_version_1_layout()
    {
        const string expected =
            "544f45582d535448" // "TOEX-STH"
            + "01" // version
            + "000000000000002a" // tree size 42
            + "0000019ca9650895" // 2026-03-01T12:34:56.789Z in Unix milliseconds
            + "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f" // root hash
            + "0b" + "6c65646765722d32303236"; // key id length and "ledger-2026"

        Assert.Equal(expected, Convert.ToHexStringLower(Unsigned.ToSignedBytes()));
    }

    [Fact]
    public void Signed_bytes_do_not_depend_on_the_signature_or_the_timestamp_offset()
    {
        var other = Unsigned with
        {
            Signature = new byte[64],
            Timestamp = Timestamp.ToOffset(TimeSpan.FromHours(1)),
        };

        Assert.Equal(Unsigned.ToSignedBytes(), other.ToSignedBytes());
    }

    [Fact]
    public void Create_keeps_whole_milliseconds_in_UTC()
    {
        var head = SignedTreeHead.Create(1, new byte[32], Timestamp.AddTicks(9_999).ToOffset(TimeSpan.FromHours(2)), "k");

        Assert.Equal(Timestamp, head.Timestamp);
        Assert.Equal(TimeSpan.Zero, head.Timestamp.Offset);
        Assert.Empty(head.Signature);
    }

    [Fact]
    public void ES256_signature_over_the_signed_bytes_verifies()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);

        var head = Sign(Unsigned, key);

        using var publicKey = PublicOnly(key);
        Assert.Equal(64, head.Signature.Length);
        Assert.True(head.VerifySignature(publicKey));
    }

    [Theory]
    [InlineData("tree size")]
    [InlineData("root hash")]
    [InlineData("timestamp")]
    [InlineData("key id")]
    [InlineData("signature")]
    public void Signature_fails_when_a_field_changes(string field)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var head = Sign(Unsigned, key);

        var changed = field switch
        {
            "tree size" => head with { TreeSize = head.TreeSize + 1 },
            "root hash" => head with { RootHash = FlipFirstBit(head.RootHash) },
            "timestamp" => head with { Timestamp = head.Timestamp.AddMilliseconds(1) },
            "key id" => head with { KeyId = "ledger-2027" },
            "signature" => head with { Signature = FlipFirstBit(head.Signature) },
            _ => throw new ArgumentOutOfRangeException(nameof(field)),
        };

        using var publicKey = PublicOnly(key);
        Assert.True(head.VerifySignature(publicKey));
        Assert.NotEqual(head, changed);
        Assert.False(changed.VerifySignature(publicKey));
    }

    [Fact]
    public void Signature_by_another_key_fails()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        using var other = ECDsa.Create(ECCurve.NamedCurves.nistP256);

        using var otherPublicKey = PublicOnly(other);
        Assert.False(Sign(Unsigned, key).VerifySignature(otherPublicKey));
    }

    [Fact]
    public void DER_encoded_signature_is_refused()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var der = key.SignData(Unsigned.ToSignedBytes(), HashAlgorithmName.SHA256, DSASignatureFormat.Rfc3279DerSequence);

        Assert.False((Unsigned with { Signature = der }).VerifySignature(key));
    }

    [Fact]
    public void Key_on_another_curve_is_refused()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP384);
        var signature = key.SignData(Unsigned.ToSignedBytes(), HashAlgorithmName.SHA256, DSASignatureFormat.IeeeP1363FixedFieldConcatenation);

        Assert.False((Unsigned with { Signature = signature }).VerifySignature(key));
    }

    public static TheoryData<string, SignedTreeHead> Unencodable => new()
    {
        { "negative size", Unsigned with { TreeSize = -1 } },
        { "short root", Unsigned with { RootHash = new byte[31] } },
        { "sub-millisecond timestamp", Unsigned with { Timestamp = Timestamp.AddTicks(1) } },
        { "timestamp before 1970", Unsigned with { Timestamp = DateTimeOffset.UnixEpoch.AddMilliseconds(-1) } },
        { "empty key id", Unsigned with { KeyId = "" } },
        { "key id of 256 bytes", Unsigned with { KeyId = new string('k', 256) } },
        { "key id with a lone surrogate", Unsigned with { KeyId = "key\ud800" } },
    };

    [Theory]
    [MemberData(nameof(Unencodable))]
    public void Head_that_cannot_be_encoded_is_refused_and_never_verifies(string what, SignedTreeHead head)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);

        Assert.Throws<InvalidOperationException>(head.ToSignedBytes);
        Assert.False((head with { Signature = new byte[64] }).VerifySignature(key), what);
    }

    [Fact]
    public void Heads_with_equal_bytes_are_equal()
    {
        var copy = Unsigned with { RootHash = Unsigned.RootHash.ToArray(), Signature = [] };

        Assert.Equal(Unsigned, copy);
        Assert.Equal(Unsigned.GetHashCode(), copy.GetHashCode());
    }

    private static SignedTreeHead Sign(SignedTreeHead head, ECDsa key) => head with
    {
        Signature = key.SignData(head.ToSignedBytes(), HashAlgorithmName.SHA256, DSASignatureFormat.IeeeP1363FixedFieldConcatenation),
    };

    private static ECDsa PublicOnly(ECDsa key)
    {
        var publicKey = ECDsa.Create();
        publicKey.ImportSubjectPublicKeyInfo(key.ExportSubjectPublicKeyInfo(), out _);
        return publicKey;
    }

    private static byte[] FlipFirstBit(byte[] bytes)
    {
        var copy = bytes.ToArray();
        copy[0] ^= 1;
        return copy;
    }
}
