using System.ComponentModel;
using System.Diagnostics;
using System.Text;

namespace TOEX.Sharing.Sealing.Tests;

/// <summary>
/// A partner must be able to open a package with any standard JOSE library: seals here, opens with
/// the npm 'jose' package in tests/interop/open-package.mjs. Needs Node.js 20+ (and npm on first run).
/// </summary>
public sealed class NodeJoseInteropTests : IDisposable
{
    private const string Package = """{"id":"2b7d3c4e-0000-4000-8000-000000000001","reference":"OP-BIRCH/7","summary":"Ünïcode survives — £ € ✓","subjects":[{"name":"J. Smith","dateOfBirth":"1980-02-29"}]}""";

    private static readonly Lazy<Task> Installed = new(InstallAsync);

    private readonly TempDirectory directory = new();

    private static string InteropDirectory => Path.Combine(RepositoryPaths.Root, "tests", "interop");

    [Theory]
    [InlineData(KeyKind.EC)]
    [InlineData(KeyKind.Rsa)]
    public async Task Node_jose_opens_a_package_sealed_here(KeyKind kind)
    {
        await Installed.Value;
        using var broker = LocalKeyRing.OpenOrCreate(directory.Combine("broker"), TestClock.Create());
        var partner = TestPartner.Create(kind);
        var jwe = new PackageSealer(broker).Seal(Encoding.UTF8.GetBytes(Package), partner.RecipientKey);

        var (exitCode, output, error) = await OpenWithNodeAsync(jwe, partner.PrivateJwk, broker.PublicJwks());

        Assert.True(exitCode == 0, $"node open-package.mjs exited {exitCode}: {error}");
        Assert.Equal(Package, output);
    }

    [Fact]
    public async Task Node_jose_refuses_a_package_sealed_for_another_partner()
    {
        await Installed.Value;
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
        return await RunAsync("node", ["open-package.mjs", jweFile, keyFile, jwksFile], TimeSpan.FromSeconds(60));
    }

    private static async Task InstallAsync()
    {
        if (Directory.Exists(Path.Combine(InteropDirectory, "node_modules", "jose")))
        {
            return;
        }

        var (exitCode, _, error) = await RunAsync("npm", ["ci", "--no-audit", "--no-fund"], TimeSpan.FromMinutes(5));
        if (exitCode != 0)
        {
            throw new InvalidOperationException($"'npm ci' in tests/interop failed ({exitCode}): {error}");
        }
    }

    private static async Task<(int ExitCode, string Output, string Error)> RunAsync(string program, string[] arguments, TimeSpan timeout)
    {
        var start = new ProcessStartInfo(program)
        {
            WorkingDirectory = InteropDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            StandardOutputEncoding = new UTF8Encoding(false),
            StandardErrorEncoding = new UTF8Encoding(false),
            UseShellExecute = false,
        };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        Process process;
        try
        {
            process = Process.Start(start) ?? throw new InvalidOperationException($"'{program}' did not start.");
        }
        catch (Win32Exception exception)
        {
            throw new InvalidOperationException(
                $"'{program}' is not installed or not on PATH ({exception.Message}). The interop test needs Node.js 20 or later with npm.", exception);
        }

        using (process)
        {
            using var cancellation = new CancellationTokenSource(timeout);
            var output = process.StandardOutput.ReadToEndAsync(cancellation.Token);
            var error = process.StandardError.ReadToEndAsync(cancellation.Token);
            try
            {
                await process.WaitForExitAsync(cancellation.Token);
            }
            catch (OperationCanceledException)
            {
                process.Kill(entireProcessTree: true);
                throw new TimeoutException($"'{program} {string.Join(' ', arguments)}' did not finish within {timeout}.");
            }

            return (process.ExitCode, await output, await error);
        }
    }
}
