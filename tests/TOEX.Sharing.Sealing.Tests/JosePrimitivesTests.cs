using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Jose;
using Base64Url = System.Buffers.Text.Base64Url;

namespace TOEX.Sharing.Sealing.Tests;

/// <summary>
/// The JOSE primitives the sealer is built on, against the published test vectors: RFC 3394's AES Key Wrap (§4) and
/// RFC 7518's ECDH-ES key agreement (Appendix C), and against an independent library (jose-jwt, which sealed the
/// gateway's copies before): what it sealed opens here, and what is sealed here opens with it.
/// </summary>
public sealed class JosePrimitivesTests : IDisposable
{
    private const string Kek128 = "000102030405060708090A0B0C0D0E0F";
    private const string Kek192 = "000102030405060708090A0B0C0D0E0F1011121314151617";
    private const string Kek256 = "000102030405060708090A0B0C0D0E0F101112131415161718191A1B1C1D1E1F";
    private const string Data128 = "00112233445566778899AABBCCDDEEFF";
    private const string Data192 = "00112233445566778899AABBCCDDEEFF0001020304050607";
    private const string Data256 = "00112233445566778899AABBCCDDEEFF000102030405060708090A0B0C0D0E0F";

    private const string Package = """{"id":"6f1c0a52-1f0e-4f55-9d55-0d6f0c8e7c11","reference":"OP-ALDER/0042","summary":"Café — £5","handling":"P"}""";

    private readonly TempDirectory directory = new();
    private readonly LocalKeyRing broker;

    public JosePrimitivesTests()
    {
        broker = LocalKeyRing.OpenOrCreate(directory.Combine("broker"), TestClock.Create());
    }

    [Theory]
    [InlineData("4.1", Kek128, Data128, "1FA68B0A8112B447AEF34BD8FB5A7B829D3E862371D2CFE5")]
    [InlineData("4.2", Kek192, Data128, "96778B25AE6CA435F92B5B97C050AED2468AB8A17AD84E5D")]
    [InlineData("4.3", Kek256, Data128, "64E8C3F9CE0F5BA263E9777905818A2A93C8191E7D6E8AE7")]
    [InlineData("4.4", Kek192, Data192, "031D33264E15D33268F24EC260743EDCE1C6C7DDEE725A936BA814915C6762D2")]
    [InlineData("4.5", Kek256, Data192, "A8F9BC1612C68B3FF6E6F4FBE30E71E4769C8B80A32CB8958CD5D17D6B254DA1")]
    [InlineData("4.6", Kek256, Data256, "28C9F404C4B810F4CBCCB35CFB87F8263F5786E2D80ED326CBC7F0E71A99F43BFB988B9B7A02DD21")]
    public void Aes_key_wrap_gives_the_ciphertext_of_RFC_3394(string section, string kek, string keyData, string ciphertext)
    {
        var wrapped = AesKeyWrap.Wrap(Convert.FromHexString(kek), Convert.FromHexString(keyData));

        Assert.True(ciphertext == Convert.ToHexString(wrapped), $"RFC 3394 §{section}");
        Assert.Equal(keyData, Convert.ToHexString(AesKeyWrap.Unwrap(Convert.FromHexString(kek), wrapped)));
    }

    [Fact]
    public void Aes_key_unwrap_refuses_an_altered_wrapped_key_or_the_wrong_key()
    {
        var wrapped = AesKeyWrap.Wrap(Convert.FromHexString(Kek256), Convert.FromHexString(Data256));
        var altered = (byte[])wrapped.Clone();
        altered[^1] ^= 1;
        var otherKey = Convert.FromHexString(Kek256);
        otherKey[0] ^= 1;

        Assert.Throws<CryptographicException>(() => AesKeyWrap.Unwrap(Convert.FromHexString(Kek256), altered));
        Assert.Throws<CryptographicException>(() => AesKeyWrap.Unwrap(otherKey, wrapped));
        Assert.Throws<CryptographicException>(() => AesKeyWrap.Unwrap(Convert.FromHexString(Kek256), wrapped.AsSpan(0, 16)));
    }

    [Fact]
    public void Aes_key_wrap_agrees_with_jose_jwt()
    {
        var kek = RandomNumberGenerator.GetBytes(32);
        var cek = RandomNumberGenerator.GetBytes(32);

        Assert.Equal(Jose.AesKeyWrap.Wrap(cek, kek), AesKeyWrap.Wrap(kek, cek));
    }

    /// <summary>RFC 7518 Appendix C: ECDH-ES between Alice's ephemeral key and Bob's, for A128GCM, apu "Alice", apv "Bob".</summary>
    [Fact]
    public void Concat_kdf_derives_the_key_of_RFC_7518_appendix_C()
    {
        using var alice = ECDiffieHellman.Create(Ec("gI0GAILBdu7T53akrFmMyGcsF3n5dO7MmwNBHKW5SV0", "SLW_xSffzlPWrHEVI30DHM_4egVwt3NQqeUD7nMFpps",
            "0_NxaRPUMQoAJt50Gz8YiTr8gRTwyEaCumd-MToTmIo"));
        using var bob = ECDiffieHellman.Create(Ec("weNJy2HscCSM6AEDTDg04biOvhFhyyWvOHQfeF_PxMQ", "e8lnCO-AlStT-NJVX-crhB7QRYhiix03illJOVAOyck",
            "VEmDZpDXXK8p8N0Cndsxs924q6nS1RXFASRl6BfUqdw"));
        using var bobPublic = bob.PublicKey;
        using var alicePublic = alice.PublicKey;

        var sent = ConcatKdf.DeriveKey(alice, bobPublic, "A128GCM", 128, "Alice"u8, "Bob"u8);
        var received = ConcatKdf.DeriveKey(bob, alicePublic, "A128GCM", 128, "Alice"u8, "Bob"u8);

        Assert.Equal("VqqN6vgjbSBcIijNcacQGg", Base64Url.EncodeToString(sent));
        Assert.Equal(sent, received);
    }

    [Theory]
    [InlineData(KeyKind.EC)]
    [InlineData(KeyKind.Rsa)]
    public void A_copy_sealed_by_jose_jwt_as_the_gateway_sealed_before_still_opens(KeyKind kind)
    {
        var partner = TestPartner.Create(kind);
        var jwe = SealWithJoseJwt(Encoding.UTF8.GetBytes(Package), partner.RecipientKey);

        var opened = PackageOpener.OpenPackage(jwe, partner.PrivateJwk, broker.PublicJwks());

        Assert.Equal(Package, opened.PayloadText);
        Assert.Equal(broker.Current.KeyId, opened.SignerKeyId);
    }

    [Theory]
    [InlineData(KeyKind.EC)]
    [InlineData(KeyKind.Rsa)]
    public void Jose_jwt_opens_a_copy_sealed_now_and_verifies_its_signature(KeyKind kind)
    {
        var partner = TestPartner.Create(kind);
        var jwe = new PackageSealer(broker).Seal(Encoding.UTF8.GetBytes(Package), partner.RecipientKey);

        var inner = partner.DecryptInner(jwe);
        using var verification = JsonWebKeys.FindVerificationKey(broker.PublicJwks(), broker.Current.KeyId, "broker")!;

        Assert.Equal(Package, Encoding.UTF8.GetString(JWT.VerifyBytes(inner, verification, JwsAlgorithm.ES256)));
    }

    [Fact]
    public void Every_EC_copy_has_its_own_ephemeral_key_and_content_key()
    {
        var partner = TestPartner.Create(KeyKind.EC);
        var sealer = new PackageSealer(broker);

        var first = sealer.Seal(Encoding.UTF8.GetBytes(Package), partner.RecipientKey);
        var second = sealer.Seal(Encoding.UTF8.GetBytes(Package), partner.RecipientKey);

        Assert.NotEqual(Jose64.Header(first)["epk"]!.ToJsonString(), Jose64.Header(second)["epk"]!.ToJsonString());
        Assert.NotEqual(first.Split('.')[1], second.Split('.')[1]);
        Assert.NotEqual(first.Split('.')[2], second.Split('.')[2]);
    }

    [Fact]
    public void A_copy_whose_ephemeral_key_is_not_on_the_curve_is_refused()
    {
        var partner = TestPartner.Create(KeyKind.EC);
        var jwe = new PackageSealer(broker).Seal(Encoding.UTF8.GetBytes(Package), partner.RecipientKey);
        var parts = jwe.Split('.');
        var header = Jose64.Header(jwe);
        var y = Base64Url.DecodeFromChars((string)header["epk"]!["y"]!);
        y[^1] ^= 1;
        header["epk"]!["y"] = Base64Url.EncodeToString(y);
        parts[0] = Jose64.Encode(header.ToJsonString());

        var error = Assert.Throws<SealException>(() => PackageOpener.Open(string.Join('.', parts), partner.PrivateJwk, broker.PublicJwks()));

        Assert.Contains("does not decrypt", error.Message, StringComparison.Ordinal);
    }

    public void Dispose()
    {
        broker.Dispose();
        directory.Dispose();
    }

    /// <summary>What the gateway's sealer did before it used the platform's primitives (jose-jwt 5.3).</summary>
    private string SealWithJoseJwt(byte[] payload, RecipientKey recipient)
    {
        var signing = JsonNode.Parse(File.ReadAllText(Directory.GetFiles(directory.Combine("broker"), "*.private.jwk").Single()))!.AsObject();
        using var ecdsa = ECDsa.Create(JsonWebKeys.ReadEc(signing, requirePrivate: true, "broker key"));
        var jws = JWT.EncodeBytes(payload, ecdsa, JwsAlgorithm.ES256, new Dictionary<string, object>
        {
            ["typ"] = JoseNames.PackageType,
            ["kid"] = broker.Current.KeyId,
            [JoseNames.RecipientThumbprintHeader] = recipient.Thumbprint,
        });
        using var key = recipient.CreatePublicKey();
        return JWT.EncodeBytes(Encoding.ASCII.GetBytes(jws), key,
            recipient.Kind == KeyKind.EC ? JweAlgorithm.ECDH_ES_A256KW : JweAlgorithm.RSA_OAEP_256, JweEncryption.A256GCM,
            extraHeaders: new Dictionary<string, object> { ["kid"] = recipient.KeyId, ["cty"] = JoseNames.NestedContentType });
    }

    private static ECParameters Ec(string x, string y, string d) => new()
    {
        Curve = ECCurve.NamedCurves.nistP256,
        Q = new ECPoint { X = Base64Url.DecodeFromChars(x), Y = Base64Url.DecodeFromChars(y) },
        D = Base64Url.DecodeFromChars(d),
    };
}
