using TOEX.Sharing.Benchmarks.EndToEnd;

var options = BenchOptions.Parse(args, out var error);
if (options is null)
{
    if (!string.IsNullOrEmpty(error))
    {
        await Console.Error.WriteLineAsync($"benchmark: {error}");
    }
    await Console.Error.WriteLineAsync(BenchOptions.Usage);
    return 2;
}
return await Bench.RunAsync(options);
