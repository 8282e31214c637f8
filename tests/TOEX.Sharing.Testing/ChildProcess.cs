using System.Diagnostics;
using System.Reflection;
using System.Runtime.InteropServices;
using System.Runtime.Versioning;
using System.Text;

namespace TOEX.Sharing.Testing;

/// <summary>
/// A service started as <c>dotnet &lt;service&gt;.dll</c> for an end-to-end test. Its standard output
/// and error go to a ring buffer so a failing test can show the last lines; disposing it kills the
/// whole process tree.
/// </summary>
public sealed class ChildProcess : IAsyncDisposable
{
    private static readonly HttpClient Http = new() { Timeout = TimeSpan.FromSeconds(5) };
    private static readonly Lazy<string> Dotnet = new(FindDotnetHost);

    private readonly Process process;
    private readonly OutputBuffer output;
    private readonly EventHandler killOnProcessExit;
    private int disposed;

    private ChildProcess(Process process, string name, int outputLines)
    {
        this.process = process;
        Name = name;
        output = new OutputBuffer(outputLines);
        killOnProcessExit = (_, _) => KillTree();
    }

    /// <summary>A short name for messages (the assembly's file name unless given).</summary>
    public string Name { get; }

    /// <summary>The operating-system process id.</summary>
    public int Id => process.Id;

    /// <summary>Whether the process has exited.</summary>
    public bool HasExited => process.HasExited;

    /// <summary>The exit code once the process has exited.</summary>
    public int? ExitCode => process.HasExited ? process.ExitCode : null;

    /// <summary>The <c>dotnet</c> host that runs the tests, used to run the services.</summary>
    public static string DotnetHost => Dotnet.Value;

    /// <summary>
    /// Starts <c>dotnet <paramref name="assemblyPath"/> <paramref name="arguments"/></c>.
    /// <paramref name="environment"/> adds or overrides variables; a null value removes one.
    /// The working directory defaults to the assembly's folder, so its appsettings are found.
    /// </summary>
    public static ChildProcess StartDotnet(
        string assemblyPath,
        IReadOnlyDictionary<string, string?>? environment = null,
        IEnumerable<string>? arguments = null,
        string? workingDirectory = null,
        string? name = null,
        int outputLines = 2000)
    {
        ArgumentException.ThrowIfNullOrEmpty(assemblyPath);
        if (!File.Exists(assemblyPath))
        {
            throw new FileNotFoundException($"No service assembly at {assemblyPath}.", assemblyPath);
        }
        return Start(DotnetHost, [assemblyPath, .. arguments ?? []], environment,
            workingDirectory ?? Path.GetDirectoryName(Path.GetFullPath(assemblyPath))!, name ?? Path.GetFileNameWithoutExtension(assemblyPath), outputLines);
    }

    /// <summary>Starts any <paramref name="program"/> (found on PATH) the same way: output kept, killed with the test process.</summary>
    public static ChildProcess Start(
        string program,
        IEnumerable<string> arguments,
        IReadOnlyDictionary<string, string?>? environment,
        string workingDirectory,
        string name,
        int outputLines = 2000)
    {
        var startInfo = new ProcessStartInfo(program)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory,
            StandardOutputEncoding = Encoding.UTF8,
            StandardErrorEncoding = Encoding.UTF8,
        };
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

        var process = new Process { StartInfo = startInfo, EnableRaisingEvents = true };
        var child = new ChildProcess(process, name, outputLines);
        process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is not null)
            {
                child.output.Add(e.Data);
            }
        };
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is not null)
            {
                child.output.Add("stderr| " + e.Data);
            }
        };
        process.Exited += (_, _) => child.OnExited();

        if (!process.Start())
        {
            throw new InvalidOperationException($"Could not start {program}.");
        }

        process.StandardInput.Close();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        AppDomain.CurrentDomain.ProcessExit += child.killOnProcessExit;
        return child;
    }

    /// <summary>
    /// <c>&lt;root&gt;/services/&lt;projectName&gt;/bin/&lt;Configuration&gt;/&lt;tfm&gt;/&lt;projectName&gt;.dll</c>,
    /// trying the configuration the tests were built in first, then Debug and Release.
    /// </summary>
    public static string BuiltServicePath(string projectName)
    {
        ArgumentException.ThrowIfNullOrEmpty(projectName);
        var assembly = typeof(ChildProcess).Assembly;
        var own = assembly.GetCustomAttribute<AssemblyConfigurationAttribute>()?.Configuration;
        var configurations = new[] { own, "Debug", "Release" }
            .Where(c => !string.IsNullOrEmpty(c))
            .Distinct(StringComparer.Ordinal);
        var candidates = configurations
            .Select(c => Path.Combine(RepoPaths.Root, "services", projectName, "bin", c!, TargetFrameworkMoniker(assembly), projectName + ".dll"))
            .ToList();

        return candidates.FirstOrDefault(File.Exists)
            ?? throw new FileNotFoundException(
                $"{projectName} is not built; looked for {string.Join(", ", candidates)}. "
                + "Build the solution first (dotnet build TOEX.Sharing.sln; dotnet test on the solution does).");
    }

    /// <summary>The buffered output, oldest line first; standard-error lines start with <c>stderr| </c>.</summary>
    public IReadOnlyList<string> RecentOutput() => output.Snapshot();

    /// <summary>The last <paramref name="maxLines"/> lines under a header naming the process, for a failure message.</summary>
    public string FormatRecentOutput(int maxLines = 200)
    {
        var lines = output.Snapshot();
        var shown = lines.Skip(Math.Max(0, lines.Count - maxLines)).ToList();
        var state = HasExited ? $"exited with code {process.ExitCode}" : "running";
        return $"--- last {shown.Count} lines of {Name} (pid {Id}, {state}) ---{Environment.NewLine}"
            + string.Join(Environment.NewLine, shown);
    }

    /// <summary>
    /// Polls <paramref name="url"/> until it answers with a success status. Fails early, with the
    /// process's last output, if the process exits; fails with a <see cref="TimeoutException"/> otherwise.
    /// </summary>
    public async Task WaitForHttpAsync(Uri url, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(url);
        var deadline = Stopwatch.StartNew();
        var lastOutcome = "no answer yet";
        while (true)
        {
            if (HasExited)
            {
                throw new InvalidOperationException(
                    $"{Name} exited with code {process.ExitCode} before {url} answered.{Environment.NewLine}{FormatRecentOutput()}");
            }

            try
            {
                using var response = await Http.GetAsync(url, cancellationToken);
                if (response.IsSuccessStatusCode)
                {
                    return;
                }

                lastOutcome = $"HTTP {(int)response.StatusCode} {response.ReasonPhrase}";
            }
            catch (HttpRequestException e)
            {
                lastOutcome = e.Message;
            }
            catch (TaskCanceledException e) when (!cancellationToken.IsCancellationRequested)
            {
                lastOutcome = e.Message;
            }

            if (deadline.Elapsed > timeout)
            {
                throw new TimeoutException(
                    $"{url} did not answer with success within {timeout.TotalSeconds:0} s (last: {lastOutcome}).{Environment.NewLine}{FormatRecentOutput()}");
            }

            await Task.Delay(TimeSpan.FromMilliseconds(200), cancellationToken);
        }
    }

    /// <inheritdoc cref="WaitForHttpAsync(Uri, TimeSpan, CancellationToken)"/>
#pragma warning disable CA1054 // Test code passes URLs as literals; the Uri overload does the work.
    public Task WaitForHttpAsync(string url, TimeSpan timeout, CancellationToken cancellationToken = default) =>
        WaitForHttpAsync(new Uri(url), timeout, cancellationToken);
#pragma warning restore CA1054

    /// <summary>Completes with the first output line (already written or to come) containing <paramref name="text"/>.</summary>
    public async Task<string> WaitForOutputAsync(string text, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        var line = output.WaitForLineAsync(l => l.Contains(text, StringComparison.Ordinal));
        try
        {
            return await line.WaitAsync(timeout, cancellationToken);
        }
        catch (TimeoutException)
        {
            throw new TimeoutException(
                $"{Name} wrote no line containing '{text}' within {timeout.TotalSeconds:0} s.{Environment.NewLine}{FormatRecentOutput()}");
        }
    }

    /// <summary>Waits for the process to exit on its own and returns its exit code; fails with its last output after <paramref name="timeout"/>.</summary>
    public async Task<int> WaitForExitAsync(TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        try
        {
            await process.WaitForExitAsync(cancellationToken).WaitAsync(timeout, cancellationToken);
            return process.ExitCode;
        }
        catch (TimeoutException)
        {
            throw new TimeoutException(
                $"{Name} did not exit within {timeout.TotalSeconds:0} s.{Environment.NewLine}{FormatRecentOutput()}");
        }
    }

    /// <summary>Asks the process to stop (SIGTERM), waits up to <paramref name="gracePeriod"/>, then kills its tree.</summary>
    public async Task StopAsync(TimeSpan gracePeriod, CancellationToken cancellationToken = default)
    {
        if (HasExited)
        {
            return;
        }

        if (!OperatingSystem.IsWindows())
        {
            await ProcessRunner.RunAsync("kill", ["-TERM", Id.ToString(System.Globalization.CultureInfo.InvariantCulture)], TimeSpan.FromSeconds(5), cancellationToken);
        }

        try
        {
            await process.WaitForExitAsync(cancellationToken).WaitAsync(gracePeriod, cancellationToken);
        }
        catch (TimeoutException)
        {
            KillTree();
            await process.WaitForExitAsync(cancellationToken);
        }
    }

    /// <summary>Kills the process and everything it started.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref disposed, 1) == 1)
        {
            return;
        }

        AppDomain.CurrentDomain.ProcessExit -= killOnProcessExit;
        KillTree();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            // Killed but not reaped in time: nothing more a test can do.
        }

        process.Dispose();
    }

    private void KillTree()
    {
        try
        {
            process.Kill(entireProcessTree: true);
        }
        catch (InvalidOperationException)
        {
            // Already exited.
        }
    }

    private void OnExited()
    {
        try
        {
            // Let the asynchronous readers drain so the last lines are in the buffer.
            process.WaitForExit();
            output.Close($"{Name} exited with code {process.ExitCode}.{Environment.NewLine}{FormatRecentOutput()}");
        }
        catch (InvalidOperationException)
        {
            output.Close($"{Name} exited.");
        }
    }

    private static string TargetFrameworkMoniker(Assembly assembly)
    {
        var name = assembly.GetCustomAttribute<TargetFrameworkAttribute>()?.FrameworkName;
        var version = name is null ? null : new FrameworkName(name).Version;
        return version is null ? "net10.0" : $"net{version.Major}.{version.Minor}";
    }

    private static string FindDotnetHost()
    {
        var executable = OperatingSystem.IsWindows() ? "dotnet.exe" : "dotnet";
        if (Environment.ProcessPath is { } processPath
            && string.Equals(Path.GetFileName(processPath), executable, StringComparison.OrdinalIgnoreCase))
        {
            return processPath;
        }

        if (Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } hostPath && File.Exists(hostPath))
        {
            return hostPath;
        }

        // <dotnet root>/shared/Microsoft.NETCore.App/<version>/ holds the running runtime.
        var fromRuntime = Path.GetFullPath(Path.Combine(RuntimeEnvironment.GetRuntimeDirectory(), "..", "..", "..", executable));
        return File.Exists(fromRuntime) ? fromRuntime : executable;
    }
}
