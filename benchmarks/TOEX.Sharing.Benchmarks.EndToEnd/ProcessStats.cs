using System.Globalization;

namespace TOEX.Sharing.Benchmarks.EndToEnd;

/// <summary>CPU time and resident memory of a process, from Linux's <c>/proc</c>.</summary>
internal static class ProcessStats
{
    /// <summary>Clock ticks per second of <c>/proc/PID/stat</c> (USER_HZ, 100 on Linux).</summary>
    private const double TicksPerSecond = 100;

    /// <summary>User plus system CPU seconds the process has used (its threads included, not its children).</summary>
    public static double CpuSeconds(int pid)
    {
        var stat = File.ReadAllText($"/proc/{pid.ToString(CultureInfo.InvariantCulture)}/stat");
        // The command name (field 2) is in parentheses and may hold spaces: count fields after its closing one.
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        // Fields 14 and 15 (utime, stime) are the 12th and 13th after the command name.
        return (long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture)) / TicksPerSecond;
    }

    /// <summary>Resident memory now (VmRSS) in MiB.</summary>
    public static double ResidentMiB(int pid) => StatusKiB(pid, "VmRSS:") / 1024.0;

    private static long StatusKiB(int pid, string field)
    {
        foreach (var line in File.ReadLines($"/proc/{pid.ToString(CultureInfo.InvariantCulture)}/status"))
        {
            if (line.StartsWith(field, StringComparison.Ordinal))
            {
                return long.Parse(line[field.Length..].Trim().Split(' ')[0], CultureInfo.InvariantCulture);
            }
        }
        return 0;
    }

    /// <summary>The machine's load average over the last minute, and the number of processors.</summary>
    public static string MachineLoad() =>
        $"load average {File.ReadAllText("/proc/loadavg").Split(' ')[0]} (1 min) on {Environment.ProcessorCount} cores";
}

/// <summary>A named process whose CPU and memory are measured.</summary>
internal sealed record MeasuredProcess(string Name, int Pid);

/// <summary>
/// Samples the measured processes' resident memory every <paramref name="interval"/> (keeping each one's peak and
/// the series), and their CPU seconds at the start and the end of a phase.
/// </summary>
internal sealed class Sampler(IReadOnlyList<MeasuredProcess> processes, TimeSpan interval) : IAsyncDisposable
{
    private readonly CancellationTokenSource stop = new();
    private readonly Dictionary<string, double> cpuAtStart = processes.ToDictionary(p => p.Name, p => ProcessStats.CpuSeconds(p.Pid));
    private readonly Dictionary<string, double> peak = processes.ToDictionary(p => p.Name, p => ProcessStats.ResidentMiB(p.Pid));
    private readonly List<(TimeSpan At, Dictionary<string, double> MiB)> series = [];
    private readonly System.Diagnostics.Stopwatch clock = System.Diagnostics.Stopwatch.StartNew();
    private Task? loop;

    public IReadOnlyList<MeasuredProcess> Processes => processes;

    public void Start() => loop = RunAsync();

    private async Task RunAsync()
    {
        using var timer = new PeriodicTimer(interval);
        try
        {
            while (await timer.WaitForNextTickAsync(stop.Token))
            {
                Sample();
            }
        }
        catch (OperationCanceledException)
        {
            // Stopped.
        }
    }

    private void Sample()
    {
        var now = processes.ToDictionary(p => p.Name, p => ProcessStats.ResidentMiB(p.Pid));
        lock (series)
        {
            series.Add((clock.Elapsed, now));
            foreach (var (name, mib) in now)
            {
                peak[name] = Math.Max(peak[name], mib);
            }
        }
    }

    /// <summary>Stops sampling; CPU seconds each process used since the sampler was made, and its peak memory.</summary>
    public async Task<IReadOnlyDictionary<string, (double CpuSeconds, double PeakMiB)>> StopAsync()
    {
        await stop.CancelAsync();
        if (loop is not null)
        {
            await loop;
        }
        Sample();
        lock (series)
        {
            return processes.ToDictionary(p => p.Name, p => (ProcessStats.CpuSeconds(p.Pid) - cpuAtStart[p.Name], peak[p.Name]));
        }
    }

    public IReadOnlyList<(TimeSpan At, Dictionary<string, double> MiB)> Series
    {
        get
        {
            lock (series)
            {
                return [.. series];
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        await stop.CancelAsync();
        stop.Dispose();
    }
}
