using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using TOEX.Sharing.Policy;

namespace TOEX.Sharing.ServiceDefaults;

/// <summary>
/// The policy set a service decides with, reloaded without a restart when its folder changes (a Kubernetes ConfigMap
/// mounted as a volume swaps its <c>..data</c> link; a plain folder has its files rewritten). A change is loaded and
/// validated in full before it replaces the current set; a set with any problem is refused (logged with every
/// problem) and the current one stays. Each message or request resolves <see cref="PolicySet"/> and
/// <see cref="PolicyEngine"/> from its scope, so it decides with one set from start to end.
/// </summary>
public sealed partial class PolicySetMonitor : IHostedService, IDisposable
{
    /// <summary>How long the folder must be quiet after a change before it is read (a swap is several events).</summary>
    public static readonly TimeSpan Settle = TimeSpan.FromMilliseconds(300);

    private readonly string _directory;
    private readonly ILogger<PolicySetMonitor> _logger;
    private readonly ITimer _timer;
    private readonly object _gate = new();
    private FileSystemWatcher? _watcher;
    private Loaded _current;

    public PolicySetMonitor(string directory, PolicySet initial, ILogger<PolicySetMonitor> logger, TimeProvider time)
    {
        _directory = Path.GetFullPath(directory);
        _logger = logger;
        _current = new Loaded(initial, new PolicyEngine(initial));
        _timer = time.CreateTimer(_ => Reload(), null, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
    }

    public PolicySet Current => Volatile.Read(ref _current).Set;

    public PolicyEngine Engine => Volatile.Read(ref _current).Engine;

    /// <summary>Raised after a new policy set replaced the current one.</summary>
    public event Action<PolicySet>? Reloaded;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        _watcher = new FileSystemWatcher(_directory)
        {
            IncludeSubdirectories = true,
            NotifyFilter = NotifyFilters.FileName | NotifyFilters.DirectoryName | NotifyFilters.LastWrite | NotifyFilters.Size,
        };
        _watcher.Changed += OnChange;
        _watcher.Created += OnChange;
        _watcher.Deleted += OnChange;
        _watcher.Renamed += OnChange;
        _watcher.EnableRaisingEvents = true;
        LogWatching(_logger, _directory, Current.Version);
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken)
    {
        if (_watcher is not null)
        {
            _watcher.EnableRaisingEvents = false;
        }
        _timer.Change(Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        return Task.CompletedTask;
    }

    private void OnChange(object sender, FileSystemEventArgs e) => _timer.Change(Settle, Timeout.InfiniteTimeSpan);

    private void Reload()
    {
        lock (_gate)
        {
            PolicySet loaded;
            try
            {
                loaded = PolicySet.Load(_directory);
            }
            catch (PolicyValidationException e)
            {
                LogRefused(_logger, Current.Version, e.Message);
                return;
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // Caught mid-swap: the next event (or the end of the swap) reads it again.
                LogUnreadable(_logger, e.Message);
                _timer.Change(Settle, Timeout.InfiniteTimeSpan);
                return;
            }
            var previous = Current;
            if (loaded.Version == previous.Version)
            {
                return;
            }
            Volatile.Write(ref _current, new Loaded(loaded, new PolicyEngine(loaded)));
            LogReloaded(_logger, previous.Version, loaded.Version);
            Reloaded?.Invoke(loaded);
        }
    }

    public void Dispose()
    {
        _watcher?.Dispose();
        _timer.Dispose();
    }

    /// <summary>A set and its engine, swapped as one.</summary>
    private sealed record Loaded(PolicySet Set, PolicyEngine Engine);

    [LoggerMessage(Level = LogLevel.Information, Message = "Watching the policy set in {Directory} (now {Version}) for changes")]
    private static partial void LogWatching(ILogger logger, string directory, string version);

    [LoggerMessage(Level = LogLevel.Information, Message = "Policy set reloaded: {Previous} replaced by {Version}")]
    private static partial void LogReloaded(ILogger logger, string previous, string version);

    [LoggerMessage(Level = LogLevel.Error, Message = "The changed policy set was refused; {Version} stays in force. Problems:\n{Problems}")]
    private static partial void LogRefused(ILogger logger, string version, string problems);

    [LoggerMessage(Level = LogLevel.Warning, Message = "The policy set could not be read while it changed ({Error}); trying again")]
    private static partial void LogUnreadable(ILogger logger, string error);
}

public static class PolicySetHosting
{
    /// <summary>
    /// Loads the policy set in <paramref name="directory"/> now (a broken set stops the service at start:
    /// <see cref="PolicyValidationException"/>), then keeps it current with a <see cref="PolicySetMonitor"/>.
    /// </summary>
    public static PolicySet AddToexPolicySet(this IHostApplicationBuilder builder, string directory)
    {
        var initial = PolicySet.Load(directory);
        builder.Services.AddSingleton(services => new PolicySetMonitor(directory, initial,
            services.GetRequiredService<ILogger<PolicySetMonitor>>(), services.GetRequiredService<TimeProvider>()));
        builder.Services.AddHostedService(services => services.GetRequiredService<PolicySetMonitor>());
        builder.Services.AddScoped(services => services.GetRequiredService<PolicySetMonitor>().Current);
        builder.Services.AddScoped(services => services.GetRequiredService<PolicySetMonitor>().Engine);
        return initial;
    }
}
