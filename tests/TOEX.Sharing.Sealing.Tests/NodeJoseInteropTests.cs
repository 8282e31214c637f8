using System.Text;
using TOEX.Sharing.Testing;

namespace TOEX.Sharing.Sealing.Tests;

/// <summary>
/// A partner must be able to open a package with any standard JOSE library: seals here, opens with
/// the npm 'jose' package in tests/interop/open-package.mjs. Needs Node.js 20+ (and npm on first run).
/// </summary>
public sealed class NodeJoseInteropTests : IDisposable
{
    private const string Package = """{"id":"2b7d3c4e-0000-4000-8000-000000000001","reference":"OP-BIRCH/7","summary":"Ünïcode survives — £ € ✓","subjects":[{"name":"J. Smith","dateOfBirth":"1980-02-29"}]}""";

    private const string RecallNotice = """{"kind":"recall","packageId":"2b7d3c4e-0000-4000-8000-000000000001","reference":"OP-BIRCH/7","originator":"rocu-wm","recipient":"wmp","reason":"Source withdrew — delete","recalledAt":"2026-11-25T12:00:00+00:00","instruction":"Stop using this package, delete every copy you hold and acknowledge this notice."}""";

    private readonly TempDirectory directory = new();

    /// <summary>Every kind of copy the gateway seals (a package and a recall notice) for either kind of partner key.</summary>
    [Theory]
    [InlineData(KeyKind.EC, "package")]
    [InlineData(KeyKind.Rsa, "package")]
    [InlineData(KeyKind.EC, "recall")]
    [InlineData(KeyKind.Rsa, "recall")]
    public async Task Node_jose_opens_a_copy_sealed_here(KeyKind kind, string item)
    {
        var payload = item == "recall" ? RecallNotice : Package;
        using var broker = LocalKeyRing.OpenOrCreate(directory.Combine("broker"), TestClock.Create());
        var partner = TestPartner.Create(kind);
        using var key = partner.RecipientKey;
        var jwe = new PackageSealer(broker).Seal(Encoding.UTF8.GetBytes(payload), key);

        var (exitCode, output, error) = await OpenWithNodeAsync(jwe, partner.PrivateJwk, broker.PublicJwks());

        Assert.True(exitCode == 0, $"node open-package.mjs exited {exitCode}: {error}");
        Assert.Equal(payload, output);
    }

    [Fact]
    public async Task Node_jose_refuses_a_package_sealed_for_another_partner()
    {
        using var broker = LocalKeyRing.OpenOrCreate(directory.Combine("broker"), TestClock.Create());
        var jwe = new PackageSealer(broker).Seal(Encoding.UTF8.GetBytes(Package), TestPartner.Create(KeyKind.EC).RecipientKey);

        var (exitCode, output, _) = await OpenWithNodeAsync(jwe, TestPartner.Create(KeyKind.EC).PrivateJwk, broker.PublicJwks());

        Assert.Equal(1, exitCode);
        Assert.Empty(output);
    }

    public void Dispose() => directory.Dispose();

    private async Task<(int ExitCode, string Output, string Error)> OpenWithNodeAsync(string jwe, string privateJwk, string brokerJwks)
    {
        var jweFile = directory.Combine("package.jwe");
        var keyFile = directory.Combine("partner.private.jwk");
        var jwksFile = directory.Combine("broker.jwks.json");
        await File.WriteAllTextAsync(jweFile, jwe);
        await File.WriteAllTextAsync(keyFile, privateJwk);
        await File.WriteAllTextAsync(jwksFile, brokerJwks);
        return await NodeInterop.RunScriptAsync("open-package.mjs", [jweFile, keyFile, jwksFile]);
    }
}
