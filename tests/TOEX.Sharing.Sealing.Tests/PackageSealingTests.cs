using System.Text;
using Jose;
using TOEX.Sharing.Contracts;

namespace TOEX.Sharing.Sealing.Tests;

public sealed class PackageSealingTests : IDisposable
{
    private const string Package = """{"id":"6f1c0a52-1f0e-4f55-9d55-0d6f0c8e7c11","reference":"OP-ALDER/0042","summary":"Café meeting, 5 × 10:00 — named subject","handling":"P"}""";

    private readonly TempDirectory directory = new();
    private readonly LocalKeyRing broker;
    private readonly PackageSealer sealer;
    private readonly TestPartner partnerA = TestPartner.Create(KeyKind.EC);

    public PackageSealingTests()
    {
        broker = LocalKeyRing.OpenOrCreate(directory.Combine("broker"), TestClock.Create());
        sealer = new PackageSealer(broker);
    }

    [Theory]
    [InlineData("P-256")]
    [InlineData("P-384")]
    [InlineData("RSA")]
    public void Sealed_package_opens_with_the_recipients_key_and_the_broker_jwks(string kind)
    {
        var partner = TestPartner.Create(kind);

        var jwe = sealer.Seal(Encoding.UTF8.GetBytes(Package), partner.RecipientKey);
        var opened = PackageOpener.OpenPackage(jwe, partner.PrivateJwk, broker.PublicJwks());

        Assert.Equal(Package, opened.PayloadText);
        Assert.Equal(broker.Current.KeyId, opened.SignerKeyId);
        Assert.Equal(Package, PackageOpener.Open(jwe, partner.PrivateJwk, broker.PublicJwks()));
    }

    [Theory]
    [InlineData(KeyKind.EC, "ECDH-ES+A256KW")]
    [InlineData(KeyKind.Rsa, "RSA-OAEP-256")]
    public void Sealed_package_is_a_broker_signed_jws_nested_in_a_jwe_for_the_recipient(KeyKind kind, string keyManagement)
    {
        var partner = TestPartner.Create(kind);

        var jwe = sealer.Seal(Encoding.UTF8.GetBytes(Package), partner.RecipientKey);

        var outer = Jose64.Header(jwe);
        Assert.Equal(5, jwe.Split('.').Length);
        Assert.Equal(keyManagement, (string?)outer["alg"]);
        Assert.Equal("A256GCM", (string?)outer["enc"]);
        Assert.Equal("JWT", (string?)outer["cty"]);
        Assert.Equal(partner.RecipientKey.KeyId, (string?)outer["kid"]);
        Assert.Null(outer["zip"]);

        var inner = partner.DecryptInner(jwe);
        var innerHeader = Jose64.Header(inner);
        Assert.Equal(3, inner.Split('.').Length);
        Assert.Equal("ES256", (string?)innerHeader["alg"]);
        Assert.Equal("toex-package+jws", (string?)innerHeader["typ"]);
        Assert.Equal(broker.Current.KeyId, (string?)innerHeader["kid"]);
        Assert.Equal(partner.RecipientKey.Thumbprint, (string?)innerHeader["rcpt_jkt"]);
        Assert.Equal(Package, Jose64.Decode(inner.Split('.')[1]));
    }

    [Theory]
    [InlineData(KeyKind.EC)]
    [InlineData(KeyKind.Rsa)]
    public void Copy_sealed_for_one_partner_does_not_open_with_another_partners_key(KeyKind kind)
    {
        var partnerB = TestPartner.Create(kind);
        var forA = sealer.Seal(Encoding.UTF8.GetBytes(Package), TestPartner.Create(kind).RecipientKey);

        var error = Assert.Throws<SealException>(() => PackageOpener.Open(forA, partnerB.PrivateJwk, broker.PublicJwks()));

        Assert.Contains("not for the key given", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Copy_sealed_for_an_EC_partner_does_not_open_with_an_RSA_key()
    {
        var forA = sealer.Seal(Encoding.UTF8.GetBytes(Package), partnerA.RecipientKey);

        var error = Assert.Throws<SealException>(() => PackageOpener.Open(forA, TestPartner.Create(KeyKind.Rsa).PrivateJwk, broker.PublicJwks()));

        Assert.Contains("RSA-OAEP-256", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    public void Tampering_with_any_part_of_the_jwe_is_detected(int part)
    {
        var jwe = sealer.Seal(Encoding.UTF8.GetBytes(Package), partnerA.RecipientKey);
        var tampered = part == 0 ? WithOuterKid(jwe, "someone-else") : Jose64.TamperPart(jwe, part);

        Assert.Throws<SealException>(() => PackageOpener.Open(tampered, partnerA.PrivateJwk, broker.PublicJwks()));
    }

    [Fact]
    public void Altered_package_inside_a_validly_encrypted_jwe_fails_the_broker_signature()
    {
        var inner = partnerA.DecryptInner(sealer.Seal(Encoding.UTF8.GetBytes(Package), partnerA.RecipientKey));
        var parts = inner.Split('.');
        parts[1] = Jose64.Encode(Package.Replace("\"P\"", "\"A\"", StringComparison.Ordinal));
        var reSealed = partnerA.EncryptToPartner(string.Join('.', parts));

        var error = Assert.Throws<SealException>(() => PackageOpener.Open(reSealed, partnerA.PrivateJwk, broker.PublicJwks()));

        Assert.Contains("signature does not verify", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Package_signed_by_a_key_outside_the_broker_jwks_is_rejected()
    {
        using var impostor = LocalKeyRing.OpenOrCreate(directory.Combine("impostor"), TestClock.Create());
        var jwe = new PackageSealer(impostor).Seal(Encoding.UTF8.GetBytes(Package), partnerA.RecipientKey);

        var error = Assert.Throws<SealException>(() => PackageOpener.Open(jwe, partnerA.PrivateJwk, broker.PublicJwks()));

        Assert.Contains("not among the trusted keys", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Package_signed_by_another_key_under_the_brokers_kid_is_rejected()
    {
        var jwk = KeyFiles.CreatePrivateJwk(KeyKind.EC, KeyUse.Signature, broker.Current.KeyId);
        var impostorKey = SigningKey.FromPrivateJwk(jwk, "impostor");
        var inner = CompactJwsFor(impostorKey, partnerA.RecipientKey);

        var error = Assert.Throws<SealException>(() => PackageOpener.Open(partnerA.EncryptToPartner(inner), partnerA.PrivateJwk, broker.PublicJwks()));

        Assert.Contains("signature does not verify", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Unsigned_package_with_alg_none_is_rejected()
    {
        var header = $$"""{"alg":"none","typ":"toex-package+jws","kid":"{{broker.Current.KeyId}}","rcpt_jkt":"{{partnerA.RecipientKey.Thumbprint}}"}""";
        var inner = $"{Jose64.Encode(header)}.{Jose64.Encode(Package)}.";

        var error = Assert.Throws<SealException>(() => PackageOpener.Open(partnerA.EncryptToPartner(inner), partnerA.PrivateJwk, broker.PublicJwks()));

        Assert.Contains("unsigned (alg 'none')", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Package_signed_with_HMAC_over_the_brokers_public_key_is_rejected()
    {
        var headers = new Dictionary<string, object>
        {
            ["typ"] = "toex-package+jws",
            ["kid"] = broker.Current.KeyId,
            ["rcpt_jkt"] = partnerA.RecipientKey.Thumbprint,
        };
        var inner = JWT.EncodeBytes(Encoding.UTF8.GetBytes(Package), Encoding.UTF8.GetBytes(broker.PublicJwks()), JwsAlgorithm.HS256, headers);

        var error = Assert.Throws<SealException>(() => PackageOpener.Open(partnerA.EncryptToPartner(inner), partnerA.PrivateJwk, broker.PublicJwks()));

        Assert.Contains("signed with 'HS256'", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Package_forwarded_by_one_partner_to_another_is_rejected()
    {
        var partnerB = TestPartner.Create(KeyKind.EC);
        var inner = partnerA.DecryptInner(sealer.Seal(Encoding.UTF8.GetBytes(Package), partnerA.RecipientKey));

        var error = Assert.Throws<SealException>(() => PackageOpener.Open(partnerB.EncryptToPartner(inner), partnerB.PrivateJwk, broker.PublicJwks()));

        Assert.Contains("forwarded", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Broker_signed_decision_is_not_accepted_as_a_package()
    {
        var decision = new DecisionSigner(broker.Current).Sign(new SignedDecision
        {
            PackageId = Guid.NewGuid(),
            ContentHash = "sha256:00",
            DecidedAt = TestClock.Start,
            PolicyVersion = "sha256:11",
            Decisions = [],
        });

        var error = Assert.Throws<SealException>(() => PackageOpener.Open(partnerA.EncryptToPartner(decision), partnerA.PrivateJwk, broker.PublicJwks()));

        Assert.Contains("expected 'toex-package+jws'", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Package_encrypted_with_RSA_OAEP_SHA1_is_rejected()
    {
        var partner = TestPartner.Create(KeyKind.Rsa);
        var inner = partner.DecryptInner(sealer.Seal(Encoding.UTF8.GetBytes(Package), partner.RecipientKey));

        var error = Assert.Throws<SealException>(() => PackageOpener.Open(partner.EncryptToPartner(inner, JweAlgorithm.RSA_OAEP), partner.PrivateJwk, broker.PublicJwks()));

        Assert.Contains("'RSA-OAEP'", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Package_sealed_before_a_key_rotation_still_opens()
    {
        var jwe = sealer.Seal(Encoding.UTF8.GetBytes(Package), partnerA.RecipientKey);
        var retired = broker.Current.KeyId;

        broker.Rotate();

        Assert.NotEqual(retired, broker.Current.KeyId);
        Assert.Equal(Package, PackageOpener.Open(jwe, partnerA.PrivateJwk, broker.PublicJwks()));
        Assert.Equal(broker.Current.KeyId, PackageOpener.OpenPackage(sealer.Seal(Encoding.UTF8.GetBytes(Package), partnerA.RecipientKey), partnerA.PrivateJwk, broker.PublicJwks()).SignerKeyId);
    }

    [Fact]
    public void Opening_with_a_public_key_instead_of_the_private_key_says_so()
    {
        var jwe = sealer.Seal(Encoding.UTF8.GetBytes(Package), partnerA.RecipientKey);
        var publicJwk = System.Text.Json.Nodes.JsonNode.Parse(partnerA.Jwks)!["keys"]![0]!.ToJsonString();

        var error = Assert.Throws<SealException>(() => PackageOpener.Open(jwe, publicJwk, broker.PublicJwks()));

        Assert.Contains("is a public key", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Opening_with_the_private_key_given_as_the_broker_jwks_is_refused()
    {
        var jwe = sealer.Seal(Encoding.UTF8.GetBytes(Package), partnerA.RecipientKey);

        var error = Assert.Throws<SealException>(() => PackageOpener.Open(jwe, partnerA.PrivateJwk, partnerA.PrivateJwk));

        Assert.Contains("private key material", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Something_that_is_not_a_jwe_is_rejected_plainly()
    {
        var error = Assert.Throws<SealException>(() => PackageOpener.Open("not-a-package", partnerA.PrivateJwk, broker.PublicJwks()));

        Assert.Contains("not a compact JWE", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Sealing_refuses_a_payload_that_is_not_json()
    {
        Assert.Throws<ArgumentException>(() => sealer.Seal("not json"u8, partnerA.RecipientKey));
    }

    public void Dispose()
    {
        broker.Dispose();
        directory.Dispose();
    }

    private static string WithOuterKid(string jwe, string kid)
    {
        var parts = jwe.Split('.');
        var header = Jose64.Header(jwe);
        header["kid"] = kid;
        parts[0] = Jose64.Encode(header.ToJsonString());
        return string.Join('.', parts);
    }

    private static string CompactJwsFor(SigningKey key, RecipientKey recipient) =>
        CompactJws.Sign(Encoding.UTF8.GetBytes(Package), key, JoseNames.PackageType, recipient.Thumbprint);
}
