using System.ComponentModel;
using System.Diagnostics;
using System.Text;

namespace TOEX.Sharing.Testing;

/// <summary>
/// Runs the Node scripts of <c>tests/interop</c> (standard libraries no one here wrote: jose, Ajv),
/// installing their npm packages on first use. Needs Node.js 20+ with npm; fails saying so otherwise.
/// </summary>
public static class NodeInterop
{
    private static readonly Lazy<Task> Installed = new(InstallAsync);

    public static string Directory => Path.Combine(RepoPaths.Root, "tests", "interop");

    /// <summary>Installs the npm packages of tests/interop if they are not there yet.</summary>
    public static Task EnsureInstalledAsync() => Installed.Value;

    public static async Task<(int ExitCode, string Output, string Error)> RunScriptAsync(
        string script, IReadOnlyList<string> arguments, string? standardInput = null, TimeSpan? timeout = null)
    {
        await Installed.Value;
        return await RunAsync("node", [script, .. arguments], standardInput, timeout ?? TimeSpan.FromSeconds(60));
    }

    private static async Task InstallAsync()
    {
        var modules = Path.Combine(Directory, "node_modules");
        if (new[] { "jose", "ajv", "ajv-formats", "oidc-provider", "axe-core" }.All(name => System.IO.Directory.Exists(Path.Combine(modules, name))))
        {
            return;
        }
        var (exitCode, _, error) = await RunAsync("npm", ["ci", "--no-audit", "--no-fund"], null, TimeSpan.FromMinutes(5));
        if (exitCode != 0)
        {
            throw new InvalidOperationException($"'npm ci' in tests/interop failed ({exitCode}): {error}");
        }
    }

    private static async Task<(int ExitCode, string Output, string Error)> RunAsync(
        string program, IReadOnlyList<string> arguments, string? standardInput, TimeSpan timeout)
    {
        var start = new ProcessStartInfo(program)
        {
            WorkingDirectory = Directory,
            RedirectStandardInput = true,
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
                $"'{program}' is not installed or not on PATH ({exception.Message}). The interop tests need Node.js 20 or later with npm.", exception);
        }
        using (process)
        {
            using var cancellation = new CancellationTokenSource(timeout);
            var output = process.StandardOutput.ReadToEndAsync(cancellation.Token);
            var error = process.StandardError.ReadToEndAsync(cancellation.Token);
            if (standardInput is not null)
            {
                await process.StandardInput.WriteAsync(standardInput);
            }
            process.StandardInput.Close();
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
