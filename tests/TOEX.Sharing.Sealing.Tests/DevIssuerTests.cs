using System.Text.Json;
using Microsoft.Extensions.Time.Testing;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace TOEX.Sharing.Sealing.Tests;

public sealed class DevIssuerTests : IDisposable
{
    private readonly TempDirectory directory = new();
    private readonly FakeTimeProvider clock = TestClock.Create();

    [Fact]
    public async Task Token_validates_with_the_expected_header_and_claims()
    {
        using var issuer = DevIssuer.OpenOrCreate(directory.Combine("dev-issuer"), clock);

        var token = issuer.CreateToken("west-midlands-police", ["Packages.Submit", "Feed.Read"], "analyst@wmp", TimeSpan.FromMinutes(30));
        var result = await new JsonWebTokenHandler().ValidateTokenAsync(token, Parameters(issuer.SigningKeyForValidation));

        Assert.True(result.IsValid, result.Exception?.Message);
        var jwt = (JsonWebToken)result.SecurityToken;
        Assert.Equal("at+jwt", jwt.Typ);
        Assert.Equal("ES256", jwt.Alg);
        Assert.Equal(((ECDsaSecurityKey)issuer.SigningKeyForValidation).KeyId, jwt.Kid);
        Assert.Equal("https://toex.local/dev-issuer", jwt.Issuer);
        Assert.Equal(["toex-sharing"], jwt.Audiences);
        Assert.Equal("analyst@wmp", jwt.Subject);
        Assert.Equal("west-midlands-police", jwt.GetClaim("org").Value);
        Assert.Equal(TestClock.Start.UtcDateTime, jwt.IssuedAt);
        Assert.Equal(TestClock.Start.UtcDateTime, jwt.ValidFrom);
        Assert.Equal(TestClock.Start.AddMinutes(30).UtcDateTime, jwt.ValidTo);
        Assert.False(string.IsNullOrEmpty(jwt.Id));
        Assert.Equal(["Packages.Submit", "Feed.Read"], result.ClaimsIdentity.FindAll("roles").Select(claim => claim.Value));
        Assert.True(result.ClaimsIdentity.HasClaim("roles", "Feed.Read"));
    }

    [Fact]
    public void A_single_role_is_still_a_json_array()
    {
        using var issuer = DevIssuer.OpenOrCreate(directory.Combine("dev-issuer"), clock);

        var token = issuer.CreateToken("nca", ["Feed.Read"], "reader@nca", TimeSpan.FromMinutes(5));

        using var payload = JsonDocument.Parse(Jose64.Decode(token.Split('.')[1]));
        var roles = payload.RootElement.GetProperty("roles");
        Assert.Equal(JsonValueKind.Array, roles.ValueKind);
        Assert.Equal("Feed.Read", roles[0].GetString());
        Assert.Equal(1, roles.GetArrayLength());
    }

    [Fact]
    public async Task Token_from_another_dev_issuer_directory_is_rejected()
    {
        using var trusted = DevIssuer.OpenOrCreate(directory.Combine("dev-issuer"), clock);
        using var other = DevIssuer.OpenOrCreate(directory.Combine("elsewhere"), clock);

        var token = other.CreateToken("nca", ["Feed.Read"], "reader@nca", TimeSpan.FromMinutes(5));
        var result = await new JsonWebTokenHandler().ValidateTokenAsync(token, Parameters(trusted.SigningKeyForValidation));

        Assert.False(result.IsValid);
        Assert.IsAssignableFrom<SecurityTokenSignatureKeyNotFoundException>(result.Exception);
    }

    [Fact]
    public async Task Token_past_its_lifetime_is_rejected()
    {
        using var issuer = DevIssuer.OpenOrCreate(directory.Combine("dev-issuer"), clock);
        var token = issuer.CreateToken("nca", ["Feed.Read"], "reader@nca", TimeSpan.FromMinutes(5));

        clock.Advance(TimeSpan.FromMinutes(6));
        var result = await new JsonWebTokenHandler().ValidateTokenAsync(token, Parameters(issuer.SigningKeyForValidation));

        Assert.False(result.IsValid);
    }

    [Fact]
    public async Task Reopened_issuer_keeps_its_key_and_publishes_it()
    {
        string token;
        using (var first = DevIssuer.OpenOrCreate(directory.Combine("dev-issuer"), clock))
        {
            token = first.CreateToken("nca", ["Feed.Read"], "reader@nca", TimeSpan.FromMinutes(5));
        }

        using var reopened = DevIssuer.OpenOrCreate(directory.Combine("dev-issuer"), clock);
        var published = new JsonWebKeySet(reopened.PublicJwks());
        var result = await new JsonWebTokenHandler().ValidateTokenAsync(token, Parameters(published.Keys.Single()));

        Assert.True(result.IsValid, result.Exception?.Message);
    }

    [Fact]
    public void Default_directory_honours_the_environment_variable_then_the_repository_root()
    {
        var saved = Environment.GetEnvironmentVariable(DevIssuer.DirectoryVariable);
        try
        {
            Environment.SetEnvironmentVariable(DevIssuer.DirectoryVariable, directory.Combine("from-env"));
            Assert.Equal(directory.Combine("from-env"), DevIssuer.DefaultDirectory());

            Environment.SetEnvironmentVariable(DevIssuer.DirectoryVariable, null);
            Assert.Equal(Path.Combine(TOEX.Sharing.Testing.RepoPaths.Root, ".local", "dev-issuer"), DevIssuer.DefaultDirectory());
        }
        finally
        {
            Environment.SetEnvironmentVariable(DevIssuer.DirectoryVariable, saved);
        }
    }

    public void Dispose() => directory.Dispose();

    private TokenValidationParameters Parameters(SecurityKey key) => new()
    {
        ValidIssuer = DevIssuer.Issuer,
        ValidAudience = DevIssuer.Audience,
        ValidTypes = [DevIssuer.TokenType],
        ValidAlgorithms = [SecurityAlgorithms.EcdsaSha256],
        IssuerSigningKey = key,
        RoleClaimType = "roles",
        ClockSkew = TimeSpan.Zero,
        LifetimeValidator = (notBefore, expires, _, _) => notBefore <= clock.GetUtcNow().UtcDateTime && clock.GetUtcNow().UtcDateTime < expires,
    };
}
