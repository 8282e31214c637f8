using TOEX.Sharing.Fuzz;

// TOEX.Sharing.Fuzz TARGET            run TARGET under afl-fuzz (SharpFuzz, persistent mode); see run.sh
// TOEX.Sharing.Fuzz TARGET FILE...    run each file through TARGET once, outside AFL (a crash prints its exception)
// TOEX.Sharing.Fuzz corpus DIR        write new test keys and the seed corpus under DIR (tests/TOEX.Sharing.Fuzz)
if (args.Length >= 2 && args[0] == "corpus")
{
    Corpus.Write(args[1]);
    return 0;
}
if (args.Length == 0 || !FuzzTargets.All.Contains(args[0]))
{
    Console.Error.WriteLine($"usage: TOEX.Sharing.Fuzz {string.Join("|", FuzzTargets.All)} [FILE...] | corpus DIR");
    return 2;
}
var target = FuzzTargets.Get(args[0]);
if (args.Length > 1)
{
    foreach (var file in args[1..])
    {
        target(File.ReadAllBytes(file));
        Console.WriteLine($"{file}: no crash");
    }
    return 0;
}
SharpFuzz.Fuzzer.Run(stream =>
{
    using var buffer = new MemoryStream();
    stream.CopyTo(buffer);
    target(buffer.ToArray());
});
return 0;
