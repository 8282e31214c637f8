using System.Text.Json.Nodes;

namespace TOEX.Sharing.Sealing.Tests;

public sealed class KeyFilesTests : IDisposable
{
    private readonly TempDirectory directory = new();

    [Fact]
    public void Thumbprint_matches_the_RFC7638_example()
    {
        const string jwk = """
            {"kty":"RSA","n":"0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw","e":"AQAB","alg":"RS256","kid":"2011-04-29"}
            """;

        Assert.Equal("NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs", JsonWebKeys.Thumbprint(jwk));
    }

    [Theory]
    [InlineData(KeyKind.EC, KeyUse.Encryption, "ECDH-ES+A256KW", "enc")]
    [InlineData(KeyKind.EC, KeyUse.Signature, "ES256", "sig")]
    [InlineData(KeyKind.Rsa, KeyUse.Encryption, "RSA-OAEP-256", "enc")]
    public void Generate_writes_a_private_jwk_and_a_public_jwks_named_by_thumbprint(KeyKind kind, KeyUse use, string algorithm, string purpose)
    {
        var generated = KeyFiles.Generate(directory.Combine("keys"), kind, use, name: "partner");

        Assert.Equal(directory.Combine("keys/partner.private.jwk"), generated.PrivateJwkPath);
        Assert.Equal(directory.Combine("keys/partner.jwks.json"), generated.PublicJwksPath);
        var privateJwk = JsonNode.Parse(KeyFiles.ReadPrivateJwk(generated.PrivateJwkPath))!;
        var publicJwk = JsonNode.Parse(KeyFiles.ReadJwks(generated.PublicJwksPath))!["keys"]!.AsArray().Single()!;
        Assert.Equal(generated.KeyId, (string?)privateJwk["kid"]);
        Assert.Equal(generated.KeyId, (string?)publicJwk["kid"]);
        Assert.Equal(JsonWebKeys.Thumbprint(publicJwk.ToJsonString()), generated.KeyId);
        Assert.Equal(algorithm, (string?)publicJwk["alg"]);
        Assert.Equal(purpose, (string?)publicJwk["use"]);
        Assert.NotNull(privateJwk["d"]);
        Assert.Null(publicJwk["d"]);
        if (!OperatingSystem.IsWindows())
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(generated.PrivateJwkPath));
        }
    }

    [Fact]
    public void Generated_RSA_keys_are_3072_bits()
    {
        var generated = KeyFiles.Generate(directory.Path, KeyKind.Rsa);

        Assert.Equal(3072, RecipientKey.FromJwks(File.ReadAllText(generated.PublicJwksPath)).KeySize);
        Assert.Equal(directory.Combine(generated.KeyId + ".private.jwk"), generated.PrivateJwkPath);
    }

    [Fact]
    public void Generate_never_overwrites_an_existing_key()
    {
        KeyFiles.Generate(directory.Path, KeyKind.EC, name: "partner");
        var before = File.ReadAllText(directory.Combine("partner.private.jwk"));

        var error = Assert.Throws<SealException>(() => KeyFiles.Generate(directory.Path, KeyKind.EC, name: "partner"));

        Assert.Contains("never overwritten", error.Message, StringComparison.Ordinal);
        Assert.Equal(before, File.ReadAllText(directory.Combine("partner.private.jwk")));
    }

    [Fact]
    public void RSA_signing_keys_are_refused()
    {
        Assert.Throws<SealException>(() => KeyFiles.Generate(directory.Path, KeyKind.Rsa, KeyUse.Signature));
    }

    [Fact]
    public void Reading_a_missing_key_file_says_it_does_not_exist()
    {
        var error = Assert.Throws<SealException>(() => KeyFiles.ReadPrivateJwk(directory.Combine("nope.private.jwk")));

        Assert.Contains("does not exist", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Reading_a_public_key_set_as_the_private_key_says_it_is_public()
    {
        var generated = KeyFiles.Generate(directory.Path, KeyKind.EC);

        var error = Assert.Throws<SealException>(() => KeyFiles.ReadPrivateJwk(generated.PublicJwksPath));

        Assert.Contains("is a public key", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Reading_a_private_key_as_a_key_set_is_refused()
    {
        var generated = KeyFiles.Generate(directory.Path, KeyKind.EC);

        var error = Assert.Throws<SealException>(() => KeyFiles.ReadJwks(generated.PrivateJwkPath));

        Assert.Contains("private key material", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Reading_a_file_that_is_not_json_says_so_without_echoing_it()
    {
        var path = directory.Combine("broken.private.jwk");
        File.WriteAllText(path, "secret-material-that-must-not-be-echoed");

        var error = Assert.Throws<SealException>(() => KeyFiles.ReadPrivateJwk(path));

        Assert.Contains("not valid JSON", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("secret-material", error.Message, StringComparison.Ordinal);
    }

    public void Dispose() => directory.Dispose();
}
