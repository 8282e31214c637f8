using System.Text;
using System.Text.Json.Nodes;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using TOEX.Sharing.Sealing;

namespace TOEX.Sharing.Cli.Tests;

/// <summary><c>toex token dev</c> with the development issuer kept in a temporary <c>TOEX_DEV_ISSUER_DIR</c>.</summary>
public sealed class TokenDevTests : IDisposable
{
    private readonly string _issuerDirectory = Path.Combine(Directory.CreateTempSubdirectory("toex-cli-token-").FullName, "dev-issuer");

    public void Dispose() => Directory.Delete(Path.GetDirectoryName(_issuerDirectory)!, recursive: true);

    [Fact]
    public async Task Prints_a_jwt_for_the_organisation_and_roles_signed_by_the_issuer_in_TOEX_DEV_ISSUER_DIR()
    {
        var run = await Toex.RunAsync(["token", "dev", "--org", "rocu-wm", "--roles", "Packages.Submit"],
            new Dictionary<string, string?> { [DevIssuer.DirectoryVariable] = _issuerDirectory });

        Assert.True(run.ExitCode == 0, run.ToString());
        var token = run.Output.Trim();
        var parts = token.Split('.');
        Assert.Equal(3, parts.Length);
        Assert.All(parts, p => Assert.Matches("^[A-Za-z0-9_-]+$", p));
        var payload = JsonNode.Parse(Encoding.UTF8.GetString(Base64UrlEncoder.DecodeBytes(parts[1])))!.AsObject();
        Assert.Equal("rocu-wm", (string)payload["org"]!);
        Assert.Equal(["Packages.Submit"], payload["roles"]!.AsArray().Select(r => (string)r!));

        using var issuer = DevIssuer.OpenOrCreate(_issuerDirectory, TimeProvider.System);
        var validation = await new JsonWebTokenHandler().ValidateTokenAsync(token, new TokenValidationParameters
        {
            ValidIssuer = DevIssuer.Issuer,
            ValidAudience = DevIssuer.Audience,
            IssuerSigningKey = issuer.SigningKeyForValidation,
        });
        Assert.True(validation.IsValid, validation.Exception?.Message);
    }
    private Task<ToexRun> TokenAsync(params string[] arguments) =>
        Toex.RunAsync(["token", "dev", .. arguments], new Dictionary<string, string?> { [DevIssuer.DirectoryVariable] = _issuerDirectory });

    [Fact]
    public async Task Refuses_a_role_the_services_do_not_know_naming_the_roles_they_do()
    {
        var run = await TokenAsync("--org", "rocu-wm", "--roles", "Packages.Sumbit");

        Assert.True(run.ExitCode == 2, run.ToString());
        Assert.Empty(run.Output);
        Assert.Contains("'Packages.Sumbit' is not a role", run.Error, StringComparison.Ordinal);
        Assert.Contains("Packages.Submit, Feed.Read, Audit.Read", run.Error, StringComparison.Ordinal);
        Assert.Contains("--allow-unknown", run.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Refuses_an_organisation_the_policy_set_does_not_know_naming_those_it_does()
    {
        var run = await TokenAsync("--org", "acme-logistics", "--roles", "Feed.Read");

        Assert.True(run.ExitCode == 2, run.ToString());
        Assert.Empty(run.Output);
        Assert.Contains("'acme-logistics' is not an organisation of the policy set", run.Error, StringComparison.Ordinal);
        Assert.Contains("nca, rocu-wm, safe-haven", run.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Mints_an_unknown_role_and_organisation_with_allow_unknown()
    {
        var run = await TokenAsync("--org", "acme-logistics", "--roles", "Packages.Sumbit", "--subject", "tester", "--allow-unknown");

        Assert.True(run.ExitCode == 0, run.ToString());
        var payload = JsonNode.Parse(Encoding.UTF8.GetString(Base64UrlEncoder.DecodeBytes(run.Output.Trim().Split('.')[1])))!.AsObject();
        Assert.Equal(("acme-logistics", "tester"), ((string)payload["org"]!, (string)payload["sub"]!));
        Assert.Equal(["Packages.Sumbit"], payload["roles"]!.AsArray().Select(r => (string)r!));
    }
}
