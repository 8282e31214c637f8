using System.Diagnostics;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using TOEX.Sharing.Policy;
using TOEX.Sharing.ServiceDefaults;
using TOEX.Sharing.Testing;

namespace TOEX.Sharing.Deploy.Tests;

/// <summary>
/// The policy set as Kubernetes mounts a ConfigMap: each file a link to <c>..data/FILE</c>, <c>..data</c> a link to a
/// timestamped folder, and an update a new folder and an atomic rename of <c>..data</c>. It loads once (the hidden
/// copies are not policy), and the services' <see cref="PolicySetMonitor"/> takes an update without a restart,
/// refusing one with a problem and keeping the set in force.
/// </summary>
public sealed class PolicyConfigMapTests : IDisposable
{
    private readonly string _mount = Directory.CreateTempSubdirectory("toex-configmap-").FullName;
    private int _generation;

    public void Dispose() => Directory.Delete(_mount, recursive: true);

    /// <summary>Writes <paramref name="files"/> as the kubelet does: a new timestamped folder, then ..data renamed onto it.</summary>
    private void Publish(IReadOnlyDictionary<string, string> files)
    {
        var folder = $"..2026_12_04_10_00_{Interlocked.Increment(ref _generation):D2}.{Guid.NewGuid():N}";
        Directory.CreateDirectory(Path.Combine(_mount, folder));
        foreach (var (name, text) in files)
        {
            File.WriteAllText(Path.Combine(_mount, folder, name), text);
            var link = Path.Combine(_mount, name);
            if (!File.Exists(link))
            {
                File.CreateSymbolicLink(link, Path.Combine("..data", name));
            }
        }
        var temporary = Path.Combine(_mount, "..data_tmp");
        Directory.CreateSymbolicLink(temporary, folder);
        // rename(2) over the old link, as the kubelet's atomic writer does.
        using var rename = Process.Start(new ProcessStartInfo("mv", ["-T", temporary, Path.Combine(_mount, "..data")]))!;
        rename.WaitForExit();
        Assert.Equal(0, rename.ExitCode);
    }

    private static Dictionary<string, string> Reference() =>
        Directory.EnumerateFiles(RepoPaths.Policies, "*.yaml").ToDictionary(path => Path.GetFileName(path), File.ReadAllText);

    [Fact]
    public void A_policy_set_mounted_as_a_config_map_loads_once_with_the_version_of_its_files()
    {
        Publish(Reference());

        var mounted = PolicySet.Load(_mount);

        Assert.Equal(PolicySet.Load(RepoPaths.Policies).Version, mounted.Version);
    }

    [Fact]
    public async Task An_updated_config_map_is_taken_without_a_restart_and_a_broken_one_is_refused()
    {
        var files = Reference();
        Publish(files);
        using var monitor = new PolicySetMonitor(_mount, PolicySet.Load(_mount), NullLogger<PolicySetMonitor>.Instance, TimeProvider.System);
        await monitor.StartAsync(CancellationToken.None);
        var original = monitor.Current.Version;
        var reloaded = new TaskCompletionSource<PolicySet>(TaskCreationOptions.RunContinuationsAsynchronously);
        monitor.Reloaded += set => reloaded.TrySetResult(set);

        // A change of policy: a comment is enough to change the version (the files are hashed).
        files["agreements.yaml"] += "\n# reviewed 2026-12-04\n";
        Publish(files);
        var changed = await reloaded.Task.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.NotEqual(original, changed.Version);
        Assert.Equal(changed.Version, monitor.Current.Version);
        Assert.Same(monitor.Current, changed);

        // A broken set (an agreement naming a partner that does not exist) is refused: the last good one stays.
        var refused = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var logs = new RefusalLog(refused);
        using var watched = new PolicySetMonitor(_mount, monitor.Current, new Logger<PolicySetMonitor>(logs), TimeProvider.System);
        await watched.StartAsync(CancellationToken.None);
        files["agreements.yaml"] = files["agreements.yaml"].Replace("recipients: [", "recipients: [no-such-partner, ", StringComparison.Ordinal);
        Publish(files);
        await refused.Task.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(changed.Version, watched.Current.Version);
        await watched.StopAsync(CancellationToken.None);
        await monitor.StopAsync(CancellationToken.None);
    }

    /// <summary>A logger provider that completes <paramref name="refused"/> when a policy set is refused.</summary>
    private sealed class RefusalLog(TaskCompletionSource refused) : ILoggerFactory, ILogger
    {
        public ILogger CreateLogger(string categoryName) => this;

        public void AddProvider(ILoggerProvider provider)
        {
        }

        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (logLevel == LogLevel.Error && formatter(state, exception).Contains("no-such-partner", StringComparison.Ordinal))
            {
                refused.TrySetResult();
            }
        }

        public void Dispose()
        {
        }
    }
}
