using System.Diagnostics;
using System.Reflection;
using System.Text;
using TOEX.Sharing.Testing;

namespace TOEX.Sharing.Cli.Tests;

/// <summary>What one run of the tool did.</summary>
public sealed record ToexRun(int ExitCode, string Output, string Error)
{
    public override string ToString() => $"exit {ExitCode}{Environment.NewLine}--- stdout ---{Environment.NewLine}{Output}--- stderr ---{Environment.NewLine}{Error}";
}

/// <summary>Runs the built <c>toex.dll</c> with <c>dotnet</c>, as a user would, and captures what it printed.</summary>
public static class Toex
{
    private static readonly Lazy<string> Assembly = new(FindBuilt);

    /// <summary>
    /// <c>dotnet toex.dll <paramref name="arguments"/></c> from <paramref name="workingDirectory"/> (default: the
    /// repository root). <paramref name="environment"/> adds or overrides variables; a null value removes one.
    /// </summary>
    public static async Task<ToexRun> RunAsync(
        IEnumerable<string> arguments, IReadOnlyDictionary<string, string?>? environment = null, string? workingDirectory = null)
    {
        var startInfo = new ProcessStartInfo(ChildProcess.DotnetHost)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory ?? RepoPaths.Root,
            StandardOutputEncoding = Encoding.UTF8,
            StandardErrorEncoding = Encoding.UTF8,
        };
        startInfo.ArgumentList.Add(Assembly.Value);
        foreach (var argument in arguments)
        {
            startInfo.ArgumentList.Add(argument);
        }
        foreach (var (key, value) in environment ?? new Dictionary<string, string?>())
        {
            if (value is null)
            {
                startInfo.Environment.Remove(key);
            }
            else
            {
                startInfo.Environment[key] = value;
            }
        }

        using var process = Process.Start(startInfo) ?? throw new InvalidOperationException($"Could not start {startInfo.FileName}.");
        process.StandardInput.Close();
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"toex {string.Join(' ', arguments)} did not finish within 60 s.");
        }
        return new ToexRun(process.ExitCode, await output, await error);
    }

    public static Task<ToexRun> RunAsync(params string[] arguments) => RunAsync(arguments, null, null);

    /// <summary>
    /// <c>&lt;root&gt;/services/TOEX.Sharing.Cli/bin/&lt;Configuration&gt;/net10.0/toex.dll</c>, trying the configuration
    /// these tests were built in first, then Debug and Release (as <see cref="ChildProcess.BuiltServicePath"/> does).
    /// </summary>
    private static string FindBuilt()
    {
        var own = typeof(Toex).Assembly.GetCustomAttribute<AssemblyConfigurationAttribute>()?.Configuration;
        var candidates = new[] { own, "Debug", "Release" }
            .Where(c => !string.IsNullOrEmpty(c))
            .Distinct(StringComparer.Ordinal)
            .Select(c => Path.Combine(RepoPaths.Root, "services", "TOEX.Sharing.Cli", "bin", c!, "net10.0", "toex.dll"))
            .ToList();
        return candidates.FirstOrDefault(File.Exists)
            ?? throw new FileNotFoundException($"toex is not built; looked for {string.Join(", ", candidates)}.");
    }
}
