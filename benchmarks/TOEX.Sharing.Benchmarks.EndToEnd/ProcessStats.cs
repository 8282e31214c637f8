using System.Globalization;

namespace TOEX.Sharing.Benchmarks.EndToEnd;

/// <summary>CPU time and resident memory of a process, from Linux's <c>/proc</c>.</summary>
internal static class ProcessStats
{
    /// <summary>Clock ticks per second of <c>/proc/PID/stat</c> (USER_HZ, 100 on Linux).</summary>
    private const double TicksPerSecond = 100;

    /// <summary>User plus system CPU seconds the process has used (its threads included, not its children).</summary>
    public static double CpuSeconds(int pid) => Ticks(Stat(pid), UserTime) / TicksPerSecond;

    /// <summary>
    /// CPU seconds of a server made of several processes (RabbitMQ's Erlang VM and its port programs, PostgreSQL's
    /// postmaster and a backend per connection): the root's own, every live descendant's, and the children the root
    /// has reaped (cutime and cstime), so a backend that came and went inside the window is counted.
    /// </summary>
    public static double TreeCpuSeconds(int root)
    {
        var parents = new Dictionary<int, int>();
        var own = new Dictionary<int, long>();
        foreach (var directory in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(directory), NumberStyles.None, CultureInfo.InvariantCulture, out var pid))
            {
                continue;
            }
            try
            {
                var fields = Stat(pid);
                // Field 4 (ppid) is the 2nd after the command name.
                parents[pid] = int.Parse(fields[1], CultureInfo.InvariantCulture);
                own[pid] = Ticks(fields, UserTime);
            }
            catch (IOException)
            {
                // Gone meanwhile.
            }
        }
        var ticks = Ticks(Stat(root), ChildrenUserTime);
        foreach (var (pid, time) in own)
        {
            for (var p = pid; p > 1; p = parents.GetValueOrDefault(p))
            {
                if (p == root)
                {
                    ticks += time;
                    break;
                }
            }
        }
        return ticks / TicksPerSecond;
    }

    /// <summary>Fields 14 and 15 (utime, stime) are the 12th and 13th after the command name; 16 and 17 (cutime, cstime) the next two.</summary>
    private const int UserTime = 11;
    private const int ChildrenUserTime = 13;

    private static string[] Stat(int pid)
    {
        var stat = File.ReadAllText($"/proc/{pid.ToString(CultureInfo.InvariantCulture)}/stat");
        // The command name (field 2) is in parentheses and may hold spaces: count fields after its closing one.
        return stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
    }

    private static long Ticks(string[] fields, int first) =>
        long.Parse(fields[first], CultureInfo.InvariantCulture) + long.Parse(fields[first + 1], CultureInfo.InvariantCulture);

    /// <summary>
    /// The whole machine's CPU so far, from the first line of <c>/proc/stat</c>, in seconds summed over every core:
    /// busy (user, nice, system, irq, softirq, steal; guest time is already inside user) and all (busy, idle, iowait).
    /// </summary>
    public static (double Busy, double All) MachineCpuSeconds()
    {
        var line = File.ReadLines("/proc/stat").First();
        var f = line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1..].Select(v => long.Parse(v, CultureInfo.InvariantCulture)).ToArray();
        // user nice system idle iowait irq softirq steal (guest guest_nice)
        var busy = f[0] + f[1] + f[2] + f[5] + f[6] + f[7];
        return (busy / TicksPerSecond, (busy + f[3] + f[4]) / TicksPerSecond);
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

/// <summary>
/// A named process whose CPU and memory are measured; a server of several processes (<paramref name="Tree"/>) is
/// measured with its descendants (<see cref="ProcessStats.TreeCpuSeconds"/>), its memory the root's own.
/// </summary>
internal sealed record MeasuredProcess(string Name, int Pid, bool Tree = false)
{
    public double CpuSeconds() => Tree ? ProcessStats.TreeCpuSeconds(Pid) : ProcessStats.CpuSeconds(Pid);
}

/// <summary>What a phase's processes and the machine used over the same window.</summary>
internal sealed record CpuUse(
    IReadOnlyDictionary<string, (double CpuSeconds, double PeakMiB)> Processes, double MachineBusySeconds, double MachineAllSeconds)
{
    /// <summary>The machine's busy share of all its cores over the window, in percent.</summary>
    public double MachineBusyPercent => MachineAllSeconds > 0 ? 100 * MachineBusySeconds / MachineAllSeconds : 0;

    /// <summary>What the machine did beyond the processes listed: other engineers' builds, the kernel's own work for nobody in particular.</summary>
    public double OtherSeconds => Math.Max(0, MachineBusySeconds - Processes.Values.Sum(p => p.CpuSeconds));
}

/// <summary>
/// Samples the measured processes' resident memory every <paramref name="interval"/> (keeping each one's peak and
/// the series), and their CPU seconds at the start and the end of a phase.
/// </summary>
internal sealed class Sampler(IReadOnlyList<MeasuredProcess> processes, TimeSpan interval) : IAsyncDisposable
{
    private readonly CancellationTokenSource stop = new();
    private readonly Dictionary<string, double> cpuAtStart = processes.ToDictionary(p => p.Name, p => p.CpuSeconds());
    private readonly (double Busy, double All) machineAtStart = ProcessStats.MachineCpuSeconds();
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

    /// <summary>Stops sampling; CPU seconds each process and the machine used since the sampler was made, and each one's peak memory.</summary>
    public async Task<CpuUse> StopAsync()
    {
        await stop.CancelAsync();
        if (loop is not null)
        {
            await loop;
        }
        Sample();
        lock (series)
        {
            var used = processes.ToDictionary(p => p.Name, p => (p.CpuSeconds() - cpuAtStart[p.Name], peak[p.Name]));
            var machine = ProcessStats.MachineCpuSeconds();
            return new CpuUse(used, machine.Busy - machineAtStart.Busy, machine.All - machineAtStart.All);
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
