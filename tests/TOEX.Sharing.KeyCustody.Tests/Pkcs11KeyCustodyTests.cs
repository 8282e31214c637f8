using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Time.Testing;
using TOEX.Sharing.KeyCustody.Pkcs11;
using TOEX.Sharing.Sealing;
using TOEX.Sharing.Testing;

namespace TOEX.Sharing.KeyCustody.Tests;

/// <summary>Keys generated in and used inside a SoftHSM2 token of this test run (never the system's), through Pkcs11Interop.</summary>
public sealed class Pkcs11KeyCustodyTests : IDisposable
{
    private readonly FakeTimeProvider clock = new(new DateTimeOffset(2026, 11, 25, 12, 0, 0, TimeSpan.Zero));
    private readonly Pkcs11Token token = Pkcs11Token.Open(SoftHsm.Instance.Library, SoftHsm.TokenLabel, Encoding.UTF8.GetBytes(SoftHsm.UserPin));

    /// <summary>Each test its own label prefix: they share the run's one token.</summary>
    private readonly string prefix = "t" + Guid.NewGuid().ToString("N")[..12];

    private Pkcs11KeyCustody Custody(KeyPurpose purpose, bool createMissing = true) =>
        new(token, purpose, prefix, createMissing, clock, TimeSpan.FromSeconds(30));

    [Fact]
    public void ES256_signatures_made_in_the_token_verify_with_the_published_key()
    {
        using var custody = Custody(KeyPurpose.PackageSigning);
        var key = custody.Keys.Single();

        var signature = custody.Sign(key.KeyId, "tree head"u8);

        Assert.Equal("ES256", key.Algorithm);
        Assert.Equal(64, signature.Length);
        using var verifier = JsonWebKeys.FindVerificationKey(custody.PublicJwks(), key.KeyId, "jwks")!;
        Assert.True(verifier.VerifyData("tree head"u8, signature, HashAlgorithmName.SHA256));
        Assert.False(verifier.VerifyData("tree heads"u8, signature, HashAlgorithmName.SHA256));
        Assert.Equal(JsonWebKeys.Thumbprint(key.PublicJwk!), key.KeyId);
    }

    [Fact]
    public void Ed25519_webhook_signatures_made_in_the_token_verify_as_Standard_Webhooks()
    {
        using var custody = Custody(KeyPurpose.WebhookSigning);
        using var webhook = new WebhookSigningKey(new CustodyKeyRing(custody));

        var header = webhook.Sign("msg_1", 1_780_000_000, """{"type":"package.released"}""");

        var jwk = JsonNode.Parse(custody.Keys[0].PublicJwk!)!;
        Assert.Equal("OKP", (string?)jwk["kty"]);
        Assert.Equal("EdDSA", (string?)jwk["alg"]);
        StandardWebhook.Verify("msg_1", "1780000000", header, """{"type":"package.released"}""", webhook.PublicJwks());
        Assert.Throws<SealException>(() =>
            StandardWebhook.Verify("msg_1", "1780000000", header, """{"type":"package.recalled"}""", webhook.PublicJwks()));
    }

    [Fact]
    public void Private_and_secret_keys_are_sensitive_and_never_extractable()
    {
        using var signing = Custody(KeyPurpose.DecisionSigning);
        using var webhook = Custody(KeyPurpose.WebhookSigning);
        using var wrapping = Custody(KeyPurpose.DataAtRest);
        _ = signing.Keys;
        signing.Rotate();
        _ = webhook.Keys;
        _ = wrapping.Keys;

        var keys = new[] { signing, webhook, wrapping }.SelectMany(c => c.SecretKeyAttributes()).ToList();

        Assert.Equal(4, keys.Count);
        Assert.All(keys, key =>
        {
            Assert.True(key.Sensitive, $"{key.KeyId}: CKA_SENSITIVE");
            Assert.False(key.Extractable, $"{key.KeyId}: CKA_EXTRACTABLE");
            Assert.True(key.AlwaysSensitive, $"{key.KeyId}: CKA_ALWAYS_SENSITIVE");
            Assert.True(key.NeverExtractable, $"{key.KeyId}: CKA_NEVER_EXTRACTABLE");
        });
    }

    [Fact]
    public void A_data_key_wrapped_in_the_token_unwraps_only_unaltered_and_with_its_key()
    {
        using var custody = Custody(KeyPurpose.DataAtRest);
        var dataKey = RandomNumberGenerator.GetBytes(32);

        var wrapped = custody.Wrap(dataKey);

        Assert.Equal(Pkcs11KeyCustody.WrapAlgorithm, wrapped.Algorithm);
        Assert.Equal(40, wrapped.Value.Length);
        Assert.False(wrapped.Value.AsSpan().IndexOf(dataKey.AsSpan(0, 8)) >= 0);
        Assert.Equal(dataKey, custody.Unwrap(wrapped));

        var altered = wrapped.Value.ToArray();
        altered[^1] ^= 1;
        Assert.Throws<KeyCustodyException>(() => custody.Unwrap(wrapped with { Value = altered }));

        custody.Rotate();
        var other = custody.Wrap(dataKey);
        Assert.NotEqual(wrapped.KeyId, other.KeyId);
        Assert.Throws<KeyCustodyException>(() => custody.Unwrap(other with { KeyId = wrapped.KeyId }));
        Assert.Equal(dataKey, custody.Unwrap(wrapped));
        Assert.Equal(dataKey, custody.Unwrap(other));
    }

    [Fact]
    public void After_a_rotation_new_signatures_name_the_new_key_and_both_verify_from_the_JWKS()
    {
        using var custody = Custody(KeyPurpose.PackageSigning);
        var ring = new CustodyKeyRing(custody);
        var partner = KeyFiles.Generate(Path.Combine(SoftHsm.Instance.Directory, prefix), KeyKind.EC);
        var recipient = RecipientKey.FromJwks(File.ReadAllText(partner.PublicJwksPath));
        var sealer = new PackageSealer(ring);
        var before = sealer.Seal("""{"n":1}"""u8, recipient);

        clock.Advance(TimeSpan.FromDays(90));
        var rotated = custody.Rotate();
        var after = sealer.Seal("""{"n":2}"""u8, recipient);

        var jwks = ring.PublicJwks();
        var privateJwk = KeyFiles.ReadPrivateJwk(partner.PrivateJwkPath);
        var first = PackageOpener.OpenPackage(before, privateJwk, jwks);
        var second = PackageOpener.OpenPackage(after, privateJwk, jwks);
        Assert.NotEqual(first.SignerKeyId, second.SignerKeyId);
        Assert.Equal(rotated.KeyId, second.SignerKeyId);
        Assert.Equal([rotated.KeyId, first.SignerKeyId], custody.Keys.Select(k => k.KeyId));
        Assert.Equal(clock.GetUtcNow(), custody.Keys[1].RetiredAt);
    }

    [Fact]
    public void Another_custody_of_the_same_token_uses_a_rotation_after_its_refresh_interval()
    {
        using var service = Custody(KeyPurpose.TreeHeadSigning);
        using var operatorSide = Custody(KeyPurpose.TreeHeadSigning);
        var first = service.Keys[0].KeyId;

        var rotated = operatorSide.Rotate();

        Assert.Equal(first, service.Keys[0].KeyId);
        clock.Advance(TimeSpan.FromSeconds(31));
        Assert.Equal(rotated.KeyId, service.Keys[0].KeyId);
        Assert.Contains(first, service.PublicJwks(), StringComparison.Ordinal);
    }

    [Fact]
    public void Without_CreateMissing_an_empty_token_is_refused_naming_the_command()
    {
        using var custody = Custody(KeyPurpose.DecisionSigning, createMissing: false);

        var error = Assert.Throws<KeyCustodyException>(() => custody.Keys);

        Assert.Contains("toex keys rotate --purpose decision-signing", error.Message, StringComparison.Ordinal);
        Assert.Contains("KeyCustody:CreateMissing", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void An_unknown_token_label_is_refused_naming_the_setting()
    {
        var label = Assert.Throws<KeyCustodyException>(() => Pkcs11Token.Open(SoftHsm.Instance.Library, "no-such-token", "0000"u8.ToArray()));

        Assert.Contains("KeyCustody:Pkcs11:TokenLabel", label.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Blind_indexes_computed_in_the_token_agree_between_services_and_the_key_is_made_once_and_never_rotated()
    {
        using var gatewaySide = Custody(KeyPurpose.BlindIndex);
        var missing = Assert.Throws<KeyCustodyException>(() => gatewaySide.Keys);
        Assert.Contains("toex keys rotate --purpose blind-index", missing.Message, StringComparison.Ordinal);

        var made = gatewaySide.Rotate();
        using var auditSide = Custody(KeyPurpose.BlindIndex);
        var gateway = new SubjectBlindIndex(new Mac(gatewaySide, made.KeyId));
        var audit = new SubjectBlindIndex(new Mac(auditSide, auditSide.Keys[0].KeyId));

        Assert.Equal(gateway.NameAndDateOfBirth("Zoë O'Brien", new DateOnly(1990, 1, 2)), audit.NameAndDateOfBirth("ZOE OBRIEN", new DateOnly(1990, 1, 2)));
        Assert.NotEqual(gateway.Name("Zoë O'Brien"), new SubjectBlindIndex(RandomNumberGenerator.GetBytes(32)).Name("Zoë O'Brien"));
        Assert.Throws<KeyCustodyException>(() => auditSide.Rotate());
        var attributes = Assert.Single(auditSide.SecretKeyAttributes());
        Assert.True(attributes.Sensitive && !attributes.Extractable);
    }

    public void Dispose() => token.Dispose();

    private sealed class Mac(IKeyCustody custody, string keyId) : ISignatureSource
    {
        public byte[] Sign(ReadOnlySpan<byte> data) => custody.Sign(keyId, data);
    }
}
