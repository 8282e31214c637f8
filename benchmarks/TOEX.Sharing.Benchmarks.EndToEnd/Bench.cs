using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;

namespace TOEX.Sharing.Benchmarks.EndToEnd;

/// <summary>Runs the phases the options ask for and prints every figure (numbers in the invariant culture: InvariantGlobalization).</summary>
internal static class Bench
{
    public static async Task<int> RunAsync(BenchOptions options)
    {
        Console.WriteLine("TOEX.Sharing end-to-end benchmark");
        Console.WriteLine($"  {string.Join(' ', Environment.GetCommandLineArgs().Skip(1))}");
        Console.WriteLine($"  {RuntimeInformation.FrameworkDescription}, {RuntimeInformation.OSDescription}, {ProcessStats.MachineLoad()}");
        Console.WriteLine($"  mode {options.Mode}; store {options.Store}; {options.Clients} clients; {options.Recipients} recipients a package; "
            + $"sizes {options.MinSize}-{options.MaxSize} B; seed {options.Seed}");

        await using var stack = await BenchStack.StartBrokerAsync(options.Store);
        Console.WriteLine($"  RabbitMQ: private node (management API on for message counts), pid {stack.Broker.NodeProcessId}");
        BaselineResult[] baselines = [];
        var baselineCount = options.Mode == "throughput" || options.Mode == "all" ? options.Packages : options.Rate * Math.Min(options.RateSeconds, 60);
        if (options.Baseline)
        {
            Console.WriteLine();
            Console.WriteLine($"== Raw baseline: RabbitMQ.Client, persistent, publisher confirms, manual acks, {options.Clients} publishers ==");
            var sizes = Workload.Sizes(options, baselineCount);
            baselines = [await RawBaseline.RunAsync(stack.Broker, stack.BrokerProcess, sizes, options.Clients, "quorum"),
                         await RawBaseline.RunAsync(stack.Broker, stack.BrokerProcess, sizes, options.Clients, "classic")];
            foreach (var b in baselines)
            {
                Console.WriteLine(($"  {b.QueueType,-8} queue: {b.Messages} messages of {b.AverageBytes / 1024:0.0} KiB on average in {b.Elapsed.TotalSeconds:0.00} s: "
                    + $"{b.MessagesPerSecond:0} msg/s; broker CPU {b.BrokerCpuSeconds * 1e6 / b.Messages:0} µs/msg"));
            }
        }

        Console.WriteLine();
        Console.WriteLine(options.Store == ServiceDefaults.Stores.PostgreSql
            ? "Starting a private PostgreSQL cluster (durable: fsync and synchronous commit on), the gateway, PolicyDecision and the audit worker …"
            : "Starting the gateway, PolicyDecision and the audit worker (stores: SQLite files) …");
        await stack.StartServicesAsync();
        // For a profiler alongside (dotnet-trace collect -p PID, dotnet-counters monitor -p PID).
        Console.WriteLine("  " + string.Join(", ", stack.Measured.Select(p => $"{p.Name} pid {p.Pid}")));
        using var http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = 256, PooledConnectionLifetime = TimeSpan.FromMinutes(30) })
        {
            BaseAddress = stack.Gateway,
            Timeout = TimeSpan.FromSeconds(60),
        };
        var workload = new Workload(options);
        Console.WriteLine("The mix, as the gateway's simulation decides it:");
        await workload.LearnDecisionsAsync(http, stack.Token("rocu-wm", "bench-simulation", "Packages.Submit"));

        // Warm-up: every code path jitted, connections opened, before anything is measured.
        Console.WriteLine("Warming up (200 packages) …");
        var warmup = await new Phase(stack, workload, http).RunAsync("warm-up", 200, options.Clients, null, null, TimeSpan.FromSeconds(1));
        if (warmup.Errors.Count > 0)
        {
            Console.WriteLine("The warm-up failed:\n  " + string.Join("\n  ", warmup.Errors) + "\n" + stack.RecentOutput());
            return 1;
        }

        var results = new List<PhaseResult>();
        if (options.Mode is "all" or "throughput")
        {
            results.Add(await RunPhaseAsync(stack, workload, http, baselines,
                $"Throughput: {options.Packages} packages, {options.Clients} clients as fast as they go",
                options.Packages, null, null, TimeSpan.FromSeconds(1)));
        }
        if (options.Mode is "all" or "rate" or "soak")
        {
            var duration = TimeSpan.FromSeconds(options.RateSeconds);
            results.Add(await RunPhaseAsync(stack, workload, http, baselines,
                ($"{(options.Mode == "soak" ? "Soak" : "Fixed rate")}: {options.Rate} packages/s for {duration.TotalSeconds:0} s"),
                0, options.Rate, duration, TimeSpan.FromSeconds(options.Mode == "soak" ? 10 : 1)));
        }
        if (options.Mode == "soak")
        {
            PrintMemory(results[^1]);
        }
        PrintTargets(options, results);
        Console.WriteLine();
        foreach (var result in results)
        {
            Console.WriteLine(Summary(options, result, baselines));
        }
        return results.Any(r => r.Errors.Count > 0) ? 1 : 0;
    }

    private static async Task<PhaseResult> RunPhaseAsync(BenchStack stack, Workload workload, HttpClient http, BaselineResult[] baselines,
        string title, int count, int? rate, TimeSpan? duration, TimeSpan memoryInterval)
    {
        Console.WriteLine();
        Console.WriteLine($"== {title} ==");
        var r = await new Phase(stack, workload, http).RunAsync(title, count, workload.Options.Clients, rate, duration, memoryInterval);
        Console.WriteLine($"  machine: {r.LoadBefore} before, {r.LoadAfter} after");
        Console.WriteLine(($"  {r.Packages} packages accepted ({r.Failed} refused or failed), {r.Permitted} permitted copies; submitted in {r.SubmitTime.TotalSeconds:0.0} s"));
        Console.WriteLine(($"  every copy delivered (feed read or push) at {r.ToFeeds.TotalSeconds:0.0} s; the ledger complete at {(r.ToLedger is { } l ? $"{l.TotalSeconds:0.0} s" : "(not reached)")}"));
        Console.WriteLine(($"  sustained: {r.PackagesPerSecond:0} packages/s submit to delivery"
            + (r.ToLedger is { } ledger ? $", {r.Packages / ledger.TotalSeconds:0} packages/s submit to ledger" : "")));
        if (r.LatenciesMs.Length > 0)
        {
            Console.WriteLine(($"  submit-to-delivery latency (feed read or push received) over {r.LatenciesMs.Length} copies: p50 {Percentile(r.LatenciesMs, 50):0} ms, "
                + $"p95 {Percentile(r.LatenciesMs, 95):0} ms, p99 {Percentile(r.LatenciesMs, 99):0} ms, max {r.LatenciesMs[^1]:0} ms"));
        }
        var published = r.BrokerMessages.GetValueOrDefault("publish");
        var delivered = r.BrokerMessages.GetValueOrDefault("deliver_get");
        Console.WriteLine(($"  broker messages per package: {published / (double)Math.Max(1, r.Packages):0.00} published, "
            + $"{delivered / (double)Math.Max(1, r.Packages):0.00} delivered ({published} and {delivered} in all)"));
        Console.WriteLine($"  {"process",-30}   CPU s   CPU ms/package   peak MiB");
        foreach (var (name, (cpu, peak)) in r.Processes)
        {
            Console.WriteLine(($"  {name,-30} {cpu,7:0.0}   {cpu * 1000 / Math.Max(1, r.Packages),14:0.00}   {peak,8:0}"));
        }
        var total = ServerCpuSeconds(r);
        var perPackage = 1000.0 / Math.Max(1, r.Packages);
        Console.WriteLine(($"  {(stack.Postgres is null ? "services + broker" : "services + broker + postgresql"),-30} {total,7:0.0}   {total * perPackage,14:0.00}"));
        // The machine as a whole over the same window (/proc/stat), so what the client and everything else took is visible.
        var machine = r.Cpu.MachineBusySeconds;
        Console.WriteLine(($"  {"machine (/proc/stat)",-30} {machine,7:0.0}   {machine * perPackage,14:0.00}   "
            + $"{r.Cpu.MachineBusyPercent:0}% of {Environment.ProcessorCount} cores busy over {r.Cpu.MachineAllSeconds / Environment.ProcessorCount:0.0} s"));
        Console.WriteLine(($"  other processes on the machine: {r.Cpu.OtherSeconds * perPackage:0.00} ms/package ({r.Cpu.OtherSeconds:0.0} CPU s; "
            + "the machine's busy time less every process listed above)"));
        var client = r.Processes.GetValueOrDefault("benchmark client").CpuSeconds;
        if (machine > 0 && (client / machine > NoticeableShare || r.Cpu.OtherSeconds / machine > NoticeableShare))
        {
            Console.WriteLine(($"  NOTE: of the machine's busy CPU the benchmark client took {100 * client / machine:0}% and other processes "
                + $"{100 * r.Cpu.OtherSeconds / machine:0}%: the services shared the cores, so their throughput and latency here are "
                + "lower than on a machine of their own"));
        }
        if (baselines.FirstOrDefault(b => b.QueueType == "quorum") is { } quorum)
        {
            Console.WriteLine(($"  ratio to the raw baseline (quorum queue, {quorum.MessagesPerSecond:0} msg/s): {r.PackagesPerSecond / quorum.MessagesPerSecond:0.000} "
                + $"({r.PackagesPerSecond:0} packages/s ÷ {quorum.MessagesPerSecond:0} messages/s)"));
        }
        foreach (var e in r.Errors)
        {
            Console.WriteLine($"  ERROR {e}");
        }
        return r;
    }

    private static void PrintMemory(PhaseResult soak)
    {
        Console.WriteLine();
        Console.WriteLine("== Memory over the soak (resident MiB, a sample a minute) ==");
        var names = soak.Memory.Count > 0 ? soak.Memory[0].MiB.Keys.ToList() : [];
        Console.WriteLine("  minute " + string.Join("", names.Select(n => $"{n,18}")));
        foreach (var sample in soak.Memory.Where((_, i) => i % 6 == 5))
        {
            Console.WriteLine(($"  {sample.At.TotalMinutes,6:0.0} ") + string.Join("", names.Select(n => ($"{sample.MiB[n],18:0}"))));
        }
        foreach (var name in names)
        {
            var (first, last, slope) = Trend(soak, name);
            Console.WriteLine(($"  {name,-18} mean of minute 2 {first:0} MiB, of the last minute {last:0} MiB, trend after minute 1 {slope:+0.0;-0.0} MiB/min"));
        }
    }

    /// <summary>Mean resident memory in the second minute and in the last, and the least-squares slope after the first minute.</summary>
    private static (double First, double Last, double Slope) Trend(PhaseResult soak, string name)
    {
        var points = soak.Memory.Where(s => s.At >= TimeSpan.FromMinutes(1)).Select(s => (X: s.At.TotalMinutes, Y: s.MiB[name])).ToList();
        if (points.Count < 2)
        {
            return (0, 0, 0);
        }
        var end = points[^1].X;
        var first = points.Where(p => p.X < 2).Select(p => p.Y).DefaultIfEmpty(points[0].Y).Average();
        var last = points.Where(p => p.X > end - 1).Select(p => p.Y).Average();
        var mx = points.Average(p => p.X);
        var my = points.Average(p => p.Y);
        var slope = points.Sum(p => (p.X - mx) * (p.Y - my)) / points.Sum(p => (p.X - mx) * (p.X - mx));
        return (first, last, slope);
    }

    private static void PrintTargets(BenchOptions options, List<PhaseResult> results)
    {
        Console.WriteLine();
        Console.WriteLine("== Targets (issue 13, on the 2-core machine) ==");
        var throughput = results.FirstOrDefault(r => r.Name.StartsWith("Throughput", StringComparison.Ordinal));
        var rate = results.FirstOrDefault(r => !r.Name.StartsWith("Throughput", StringComparison.Ordinal));
        if (throughput is not null)
        {
            Console.WriteLine(($"  end to end with {options.Recipients} recipients: {throughput.PackagesPerSecond:0} packages/s (target ≥ 500 with 3; the goal beyond, 1,000): "
                + (options.Recipients == 3 ? Verdict(throughput.PackagesPerSecond >= 500) : "not comparable (not 3 recipients)")));
        }
        foreach (var r in results)
        {
            var (all, gateway, messages) = TargetFigures(r);
            Console.WriteLine(($"  {r.Name}: CPU per package {all:0.00} ms, gateway {gateway:0.00} (target ≤ 4, gateway ≤ 2): {Verdict(all <= 4 && gateway <= 2)}; "
                + $"{messages:0.00} broker messages published per package (target ≤ 4): {Verdict(messages <= 4)}"));
        }
        if (rate is not null && rate.LatenciesMs.Length > 0)
        {
            var p99 = Percentile(rate.LatenciesMs, 99);
            var target = options.Rate switch { 200 => 250, 400 => 1000, _ => (int?)null };
            Console.WriteLine(($"  p99 submit to delivery at {options.Rate} packages/s: {p99:0} ms (target < 250 ms at 200/s, < 1 s at 400/s): "
                + (target is { } limit ? Verdict(p99 < limit) : "not comparable (neither 200/s nor 400/s)")));
        }
        if (options.Mode == "soak" && rate is not null)
        {
            foreach (var name in Services)
            {
                var (first, last, slope) = Trend(rate, name);
                var flat = last <= first * 1.10 || slope < 1;
                Console.WriteLine(($"  memory of {name} over {options.RateSeconds / 60.0:0} min at {options.Rate}/s: {first:0} → {last:0} MiB, {slope:+0.0;-0.0} MiB/min (target flat, at 200/s): {Verdict(flat)}"));
            }
        }
        Console.WriteLine("  one policy decision < 20 µs, a 4 KiB EC seal ≤ 350 µs: see the micro-benchmarks (benchmarks/TOEX.Sharing.Benchmarks.Micro)");
    }

    private static string Verdict(bool met) => met ? "met" : "MISSED";

    /// <summary>The three services (whose memory a soak watches).</summary>
    private static readonly string[] Services = ["gateway", "policy-decision", "audit"];

    /// <summary>A share of the machine's busy CPU above which the client's, or everything else's, is called out.</summary>
    private const double NoticeableShare = 0.10;

    /// <summary>CPU seconds of the system under test: the services, the broker and (with PostgreSQL) the database server.</summary>
    private static double ServerCpuSeconds(PhaseResult r) => r.Processes.Where(p => BenchStack.IsServer(p.Key)).Sum(p => p.Value.CpuSeconds);

    /// <summary>Per package, the figures issue 13's targets are set on: CPU ms of the system under test, the gateway's, and broker messages published.</summary>
    private static (double CpuMs, double GatewayCpuMs, double Messages) TargetFigures(PhaseResult r)
    {
        var perPackage = 1000.0 / Math.Max(1, r.Packages);
        return (ServerCpuSeconds(r) * perPackage, r.Processes.GetValueOrDefault("gateway").CpuSeconds * perPackage,
            r.BrokerMessages.GetValueOrDefault("publish") * perPackage / 1000);
    }

    /// <summary>
    /// One line per phase for a script: <c>summary key=value …</c>, numbers in the invariant culture, a field left out
    /// where it does not apply (no <c>ratio</c> without the baseline, <c>rss_mb_*</c> only in a soak). README.md,
    /// "Benchmarks", says what each field is.
    /// </summary>
    private static string Summary(BenchOptions options, PhaseResult r, BaselineResult[] baselines)
    {
        var perPackage = 1000.0 / Math.Max(1, r.Packages);
        var line = new StringBuilder("summary");
        void Field(string key, FormattableString value) => line.Append(' ').Append(key).Append('=').Append(value.ToString(CultureInfo.InvariantCulture));
        var phase = r.Name.StartsWith("Throughput", StringComparison.Ordinal) ? "throughput" : options.Mode == "soak" ? "soak" : "rate";
        Field("store", $"{options.Store}");
        Field("phase", $"{phase}");
        Field("packages_per_s", $"{r.PackagesPerSecond:0.0}");
        if (r.LatenciesMs.Length > 0)
        {
            Field("p99_ms", $"{Percentile(r.LatenciesMs, 99):0}");
        }
        var (cpuMs, gatewayCpuMs, messages) = TargetFigures(r);
        Field("cpu_ms_per_package", $"{cpuMs:0.00}");
        Field("gateway_cpu_ms_per_package", $"{gatewayCpuMs:0.00}");
        Field("machine_cpu_ms_per_package", $"{r.Cpu.MachineBusySeconds * perPackage:0.00}");
        Field("broker_msgs_per_package", $"{messages:0.00}");
        if (baselines.FirstOrDefault(b => b.QueueType == "quorum") is { } quorum)
        {
            Field("ratio", $"{r.PackagesPerSecond / quorum.MessagesPerSecond:0.000}");
        }
        Field("client_cpu_ms_per_package", $"{r.Processes.GetValueOrDefault("benchmark client").CpuSeconds * perPackage:0.00}");
        Field("other_cpu_ms_per_package", $"{r.Cpu.OtherSeconds * perPackage:0.00}");
        Field("machine_busy_pct", $"{r.Cpu.MachineBusyPercent:0}");
        if (phase != "throughput")
        {
            Field("rate", $"{options.Rate}");
        }
        if (phase == "soak")
        {
            var services = Services.Select(name => Trend(r, name)).ToList();
            Field("rss_mb_start", $"{services.Sum(t => t.First):0}");
            Field("rss_mb_end", $"{services.Sum(t => t.Last):0}");
        }
        Field("packages", $"{r.Packages}");
        Field("errors", $"{r.Errors.Count}");
        return line.ToString();
    }

    private static double Percentile(double[] sorted, double p) =>
        sorted.Length == 0 ? double.NaN : sorted[Math.Clamp((int)Math.Ceiling(p / 100 * sorted.Length) - 1, 0, sorted.Length - 1)];

}
