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

    public static TheoryData<string> PartnerKeys => ["RSA", "P-256", "P-384"];

    /// <summary>Every kind of copy the gateway seals (a package and a recall notice) for every kind of partner key.</summary>
    public static TheoryData<string, string> Copies => new()
    {
        { "RSA", "package" }, { "P-256", "package" }, { "P-384", "package" },
        { "RSA", "recall" }, { "P-256", "recall" }, { "P-384", "recall" },
    };

    [Theory]
    [MemberData(nameof(Copies))]
    public async Task Node_jose_opens_a_copy_sealed_here(string partnerKey, string item)
    {
        var payload = item == "recall" ? RecallNotice : Package;
        using var broker = LocalKeyRing.OpenOrCreate(directory.Combine("broker"), TestClock.Create());
        var partner = TestPartner.Create(partnerKey);
        using var key = partner.RecipientKey;
        var jwe = new PackageSealer(broker).Seal(Encoding.UTF8.GetBytes(payload), key);

        var (exitCode, output, error) = await OpenWithNodeAsync(jwe, partner.PrivateJwk, broker.PublicJwks());

        Assert.True(exitCode == 0, $"node open-package.mjs exited {exitCode}: {error}");
        Assert.Equal(payload, output);
        Assert.Equal(partnerKey == "RSA" ? "RSA-OAEP-256" : "ECDH-ES+A256KW", key.Algorithm);
    }

    [Theory]
    [MemberData(nameof(PartnerKeys))]
    public async Task Node_jose_refuses_a_package_sealed_for_another_partner(string partnerKey)
    {
        using var broker = LocalKeyRing.OpenOrCreate(directory.Combine("broker"), TestClock.Create());
        var jwe = new PackageSealer(broker).Seal(Encoding.UTF8.GetBytes(Package), TestPartner.Create(partnerKey).RecipientKey);

        // Another partner with a key of the same type, and partners with keys of the other types.
        foreach (var other in PartnerKeys)
        {
            var (exitCode, output, _) = await OpenWithNodeAsync(jwe, TestPartner.Create(other).PrivateJwk, broker.PublicJwks());

            Assert.True(exitCode == 1, $"a {other} partner opened a copy sealed for a {partnerKey} partner");
            Assert.Empty(output);
        }
    }

    [Theory]
    [MemberData(nameof(PartnerKeys))]
    public async Task Node_jose_refuses_a_package_with_any_changed_byte(string partnerKey)
    {
        using var broker = LocalKeyRing.OpenOrCreate(directory.Combine("broker"), TestClock.Create());
        var partner = TestPartner.Create(partnerKey);
        var jwe = new PackageSealer(broker).Seal(Encoding.UTF8.GetBytes(Package), partner.RecipientKey);

        // Each of the five parts: protected header, encrypted key, IV, ciphertext, authentication tag.
        for (var part = 0; part < 5; part++)
        {
            var (exitCode, output, _) = await OpenWithNodeAsync(Jose64.TamperPart(jwe, part), partner.PrivateJwk, broker.PublicJwks());

            Assert.True(exitCode == 1, $"a copy changed in part {part} opened");
            Assert.Empty(output);
        }

        // And a copy signed by a key not in the broker's JWKS.
        using var impostor = LocalKeyRing.OpenOrCreate(directory.Combine("impostor"), TestClock.Create());
        var forged = new PackageSealer(impostor).Seal(Encoding.UTF8.GetBytes(Package), partner.RecipientKey);
        var (forgedExit, forgedOutput, _) = await OpenWithNodeAsync(forged, partner.PrivateJwk, broker.PublicJwks());
        Assert.Equal(1, forgedExit);
        Assert.Empty(forgedOutput);
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
