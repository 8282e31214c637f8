using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Diagnosers;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Running;
using BenchmarkDotNet.Toolchains.InProcess.Emit;

// In process (the benchmarks are compiled with this project; BenchmarkDotNet builds nothing of its own), with the
// allocations of each operation. Pass --filter '*' for every benchmark, or e.g. --filter '*Seal*'; a job given on the
// command line (--job short) replaces the default one and stays in process.
var config = DefaultConfig.Instance
    .AddJob(Job.Default.WithToolchain(InProcessEmitToolchain.Instance).AsDefault())
    .AddDiagnoser(MemoryDiagnoser.Default)
    .WithOptions(ConfigOptions.DisableOptimizationsValidator);
BenchmarkSwitcher.FromAssembly(typeof(TOEX.Sharing.Benchmarks.Micro.Samples).Assembly).Run(args, config);
