using System.Globalization;
using TOEX.Sharing.ServiceDefaults;

namespace TOEX.Sharing.Benchmarks.EndToEnd;

/// <summary>What to run. Every option has a default; <c>--help</c> lists them.</summary>
internal sealed record BenchOptions
{
    public const string Usage = """
        Usage: dotnet run -c Release --project benchmarks/TOEX.Sharing.Benchmarks.EndToEnd -- [options]
          --mode all|throughput|rate|soak  all (default): raw baseline, then the throughput run, then the fixed-rate run
                                           throughput: N packages from C clients as fast as they go (closed loop)
                                           rate: packages at a fixed rate for a duration (open loop), for latency
                                           soak: a fixed rate for a long duration, sampling each service's memory
          --packages N        packages in the throughput run [20000]
          --clients C         concurrent submitting clients (each its own caller) [16]
          --recipients K      recipients per package, 1 to 4 [3]
          --rate R            packages per second in the rate and soak runs [500]
          --duration S        seconds of the rate run [60]; of the soak run [600]
          --min-size B, --max-size B   package size range in bytes [2048, 16384]
          --store sqlite|postgresql  the gateway's store and the audit ledger [sqlite]: SQLite files, or databases on a
                              private PostgreSQL cluster started for the run (durable: fsync on, as in production)
          --no-baseline       skip the raw RabbitMQ.Client baseline
          --seed N            the workload's random seed [6]
        """;

    public string Mode { get; init; } = "all";
    public int Packages { get; init; } = 20_000;
    public int Clients { get; init; } = 16;
    public int Recipients { get; init; } = 3;
    public int Rate { get; init; } = 500;
    public int? Duration { get; init; }
    public int MinSize { get; init; } = 2048;
    public int MaxSize { get; init; } = 16384;
    public bool Baseline { get; init; } = true;

    /// <summary>The services' <c>Database</c> setting: <see cref="Stores.Sqlite"/> or <see cref="Stores.PostgreSql"/>.</summary>
    public string Store { get; init; } = Stores.Sqlite;
    public int Seed { get; init; } = 6;

    public int RateSeconds => Duration ?? (Mode == "soak" ? 600 : 60);

    public static BenchOptions? Parse(string[] args, out string? error)
    {
        var options = new BenchOptions();
        error = null;
        for (var i = 0; i < args.Length; i++)
        {
            string Next() => i + 1 < args.Length ? args[++i] : throw new FormatException($"{args[i]} needs a value");
            int Number() => int.Parse(Next(), NumberStyles.None, CultureInfo.InvariantCulture);
            try
            {
                options = args[i] switch
                {
                    "--mode" => options with { Mode = Next() },
                    "--packages" => options with { Packages = Number() },
                    "--clients" => options with { Clients = Number() },
                    "--recipients" => options with { Recipients = Number() },
                    "--rate" => options with { Rate = Number() },
                    "--duration" => options with { Duration = Number() },
                    "--min-size" => options with { MinSize = Number() },
                    "--max-size" => options with { MaxSize = Number() },
                    "--no-baseline" => options with { Baseline = false },
                    "--store" => options with { Store = Next() },
                    "--seed" => options with { Seed = Number() },
                    "-h" or "--help" => throw new FormatException(""),
                    var other => throw new FormatException($"unknown option {other}"),
                };
            }
            catch (FormatException e)
            {
                error = e.Message;
                return null;
            }
        }
        error = options switch
        {
            { Mode: not ("all" or "throughput" or "rate" or "soak") } => "--mode must be all, throughput, rate or soak",
            { Store: not (Stores.Sqlite or Stores.PostgreSql) } => $"--store must be {Stores.Sqlite} or {Stores.PostgreSql}",
            { Packages: < 1 } => "--packages must be at least 1",
            { Clients: < 1 or > 512 } => "--clients must be 1 to 512",
            { Recipients: < 1 or > 4 } => "--recipients must be 1 to 4",
            { Rate: < 1 } => "--rate must be at least 1",
            { Duration: < 1 } => "--duration must be at least 1",
            { MinSize: < 1024 } => "--min-size must be at least 1024 (a package's own fields take about 1 KiB)",
            _ when options.MaxSize < options.MinSize || options.MaxSize > 900_000 => "--max-size must be from --min-size to 900000",
            _ => null,
        };
        return error is null ? options : null;
    }
}
