using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text.Json.Nodes;

namespace TOEX.Sharing.Sealing.Tests;

public sealed class RecipientKeyTests
{
    [Fact]
    public void Picks_the_encryption_key_and_skips_signing_keys()
    {
        var signing = KeyFiles.CreatePrivateJwk(KeyKind.EC, KeyUse.Signature, "signing");
        var encryption = KeyFiles.CreatePrivateJwk(KeyKind.EC, KeyUse.Encryption, "encryption");
        var jwks = JsonWebKeys.ToKeySetJson([JsonWebKeys.PublicOf(signing, "k"), JsonWebKeys.PublicOf(encryption, "k")]);

        var key = RecipientKey.FromJwks(jwks);

        Assert.Equal("encryption", key.KeyId);
        Assert.Equal(KeyKind.EC, key.Kind);
        Assert.Equal("ECDH-ES+A256KW", key.Algorithm);
    }

    [Fact]
    public void Key_without_kid_is_known_by_its_thumbprint()
    {
        var jwk = JsonWebKeys.PublicOf(KeyFiles.CreatePrivateJwk(KeyKind.Rsa, KeyUse.Encryption, null, rsaBits: 2048), "k");
        jwk.Remove("kid");
        jwk.Remove("use");
        jwk.Remove("alg");

        var key = RecipientKey.FromJwks(jwk.ToJsonString());

        Assert.Equal(key.Thumbprint, key.KeyId);
        Assert.Equal("RSA-OAEP-256", key.Algorithm);
        Assert.Equal(2048, key.KeySize);
    }

    [Fact]
    public void RSA_key_under_2048_bits_is_refused_with_its_size()
    {
        using var rsa = RSA.Create(1024);
        var jwks = JsonWebKeys.ToKeySetJson([JsonWebKeys.WriteRsa(rsa.ExportParameters(false), false, "weak", "enc", null)]);

        var error = Assert.Throws<SealException>(() => RecipientKey.FromJwks(jwks));

        Assert.Contains("1024 bits", error.Message, StringComparison.Ordinal);
        Assert.Contains("'weak'", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void EC_key_on_another_curve_is_refused()
    {
        using var ec = ECDiffieHellman.Create(ECCurve.NamedCurves.nistP521);
        var parameters = ec.ExportParameters(false);
        var jwk = new JsonObject
        {
            ["kty"] = "EC",
            ["crv"] = "P-521",
            ["x"] = Base64Url.EncodeToString(parameters.Q.X),
            ["y"] = Base64Url.EncodeToString(parameters.Q.Y),
        };

        var error = Assert.Throws<SealException>(() => RecipientKey.FromJwks(jwk.ToJsonString()));

        Assert.Contains("curve 'P-521'", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void EC_P384_key_is_accepted_for_ECDH_ES_A256KW()
    {
        using var ec = ECDiffieHellman.Create(ECCurve.NamedCurves.nistP384);
        var parameters = ec.ExportParameters(false);
        var jwk = new JsonObject
        {
            ["kty"] = "EC",
            ["crv"] = "P-384",
            ["x"] = Base64Url.EncodeToString(parameters.Q.X),
            ["y"] = Base64Url.EncodeToString(parameters.Q.Y),
        };

        var key = RecipientKey.FromJwks(jwk.ToJsonString());

        Assert.Equal(KeyKind.EC, key.Kind);
        Assert.Equal(384, key.KeySize);
        Assert.Equal("ECDH-ES+A256KW", key.Algorithm);
    }

    [Fact]
    public void Symmetric_key_is_refused()
    {
        var error = Assert.Throws<SealException>(() => RecipientKey.FromJwks("""{"keys":[{"kty":"oct","k":"c2VjcmV0"}]}"""));

        Assert.Contains("only EC (P-256, P-384) and RSA", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Key_set_with_only_a_signing_key_has_no_usable_encryption_key()
    {
        var signing = JsonWebKeys.PublicOf(KeyFiles.CreatePrivateJwk(KeyKind.EC, KeyUse.Signature, "signing"), "k");

        var error = Assert.Throws<SealException>(() => RecipientKey.FromJwks(JsonWebKeys.ToKeySetJson([signing])));

        Assert.Contains("no usable encryption key", error.Message, StringComparison.Ordinal);
        Assert.Contains("use 'sig'", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Key_for_another_algorithm_is_refused()
    {
        var jwk = JsonWebKeys.PublicOf(KeyFiles.CreatePrivateJwk(KeyKind.Rsa, KeyUse.Encryption, "old", rsaBits: 2048), "k");
        jwk["alg"] = "RSA1_5";

        var error = Assert.Throws<SealException>(() => RecipientKey.FromJwks(jwk.ToJsonString()));

        Assert.Contains("'RSA1_5'", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Published_private_key_is_refused()
    {
        var jwk = KeyFiles.CreatePrivateJwk(KeyKind.EC, KeyUse.Encryption, "leaked");

        var error = Assert.Throws<SealException>(() => RecipientKey.FromJwks(JsonWebKeys.ToKeySetJson([jwk])));

        Assert.Contains("private key material", error.Message, StringComparison.Ordinal);
    }
}
