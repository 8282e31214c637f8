namespace TOEX.Sharing.Sealing.Tests;

public sealed class SecureFilesTests : IDisposable
{
    private readonly TempDirectory directory = new();

    [Fact]
    public void Of_writers_racing_to_create_a_file_exactly_one_wins_and_the_file_holds_its_content()
    {
        // File.Move(overwrite: false) on Unix looks, then renames: two racers could both win and the
        // second replace the first's file. Two hundred races of eight writers made that happen here.
        for (var race = 0; race < 200; race++)
        {
            var path = directory.Combine($"race-{race}.json");
            var outcomes = Enumerable.Range(0, 8)
                .AsParallel()
                .WithDegreeOfParallelism(8)
                .Select(writer => (Writer: writer, Won: SecureFiles.WriteAtomically(path, $"writer {writer}", isPrivate: true, overwrite: false)))
                .ToList();

            var winner = Assert.Single(outcomes, outcome => outcome.Won);
            Assert.Equal($"writer {winner.Writer}", File.ReadAllText(path));
        }

        Assert.Empty(Directory.GetFiles(directory.Path, "*.tmp"));
    }

    [Fact]
    public void An_existing_file_is_kept_unless_overwrite_is_asked_for()
    {
        var path = directory.Combine("file.json");

        Assert.True(SecureFiles.WriteAtomically(path, "first", isPrivate: true, overwrite: false));
        Assert.False(SecureFiles.WriteAtomically(path, "second", isPrivate: true, overwrite: false));
        Assert.Equal("first", File.ReadAllText(path));

        Assert.True(SecureFiles.WriteAtomically(path, "third", isPrivate: true, overwrite: true));
        Assert.Equal("third", File.ReadAllText(path));
    }

    public void Dispose() => directory.Dispose();
}
