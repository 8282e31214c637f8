using System.Text;
using System.Text.Json.Nodes;
using Microsoft.IdentityModel.Tokens;
using TOEX.Sharing.Sealing;

namespace TOEX.Sharing.Cli.Tests;

/// <summary>
/// <c>toex feed pull --dev-org</c>: the ledger records a read under the token's organisation and subject, so the
/// subject is whoever reads (<c>--subject</c>, else the operating system's user), never a sample partner's name.
/// </summary>
public sealed class FeedPullTests : IDisposable
{
    private readonly string _temp = Directory.CreateTempSubdirectory("toex-cli-feed-").FullName;

    public void Dispose() => Directory.Delete(_temp, recursive: true);

    private async Task<JsonObject> ReadAsAsync(params string[] subject)
    {
        using var broker = LocalKeyRing.OpenOrCreate(Path.Combine(_temp, "broker"), TimeProvider.System);
        var keys = await Toex.RunAsync("keys", "generate", "--out", Path.Combine(_temp, "partners"), "--name", "nca");
        Assert.True(keys.ExitCode == 0, keys.ToString());
        await using var gateway = await FakeGateway.StartAsync(broker.PublicJwks());

        var run = await Toex.RunAsync(
            ["feed", "pull", "--gateway", gateway.Url.ToString(), "--dev-org", "nca", "--key", Path.Combine(_temp, "partners", "nca.private.jwk"), .. subject],
            new Dictionary<string, string?> { [DevIssuer.DirectoryVariable] = Path.Combine(_temp, "dev-issuer") });

        Assert.True(run.ExitCode == 0, run.ToString());
        var token = Assert.Single(gateway.FeedTokens);
        return JsonNode.Parse(Encoding.UTF8.GetString(Base64UrlEncoder.DecodeBytes(token.Split('.')[1])))!.AsObject();
    }

    [Fact]
    public async Task Reads_as_the_subject_given()
    {
        var claims = await ReadAsAsync("--subject", "analyst-4471");

        Assert.Equal(("nca", "analyst-4471"), ((string)claims["org"]!, (string)claims["sub"]!));
        Assert.Equal(["Feed.Read"], claims["roles"]!.AsArray().Select(r => (string)r!));
    }

    [Fact]
    public async Task Reads_as_the_operating_system_user_without_a_subject()
    {
        var claims = await ReadAsAsync();

        Assert.Equal(Environment.UserName, (string)claims["sub"]!);
        Assert.DoesNotContain("sample-partner", (string)claims["sub"]!, StringComparison.Ordinal);
    }
}
