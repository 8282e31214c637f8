namespace TOEX.Sharing.Sealing.Tests;

public sealed class CachedKeyFileTests : IDisposable
{
    private readonly TempDirectory directory = new();
    private readonly List<Imported> imports = [];

    [Fact]
    public void Imports_the_file_once_while_it_is_unchanged()
    {
        var path = Write("keys.jwks.json", "one");
        using var cache = new CachedKeyFile<Imported>(path, Import);

        using (var first = cache.Use())
        using (var second = cache.Use())
        {
            Assert.Same(first.Value, second.Value);
        }

        Assert.Single(imports);
        Assert.False(imports[0].Disposed);
    }

    [Fact]
    public void Imports_again_when_the_file_changes_and_disposes_the_old_keys_once_their_last_user_is_done()
    {
        var path = Write("keys.jwks.json", "one");
        using var cache = new CachedKeyFile<Imported>(path, Import);
        var inUse = cache.Use();

        Write("keys.jwks.json", "rotated");
        using (var after = cache.Use())
        {
            Assert.Equal("rotated", after.Value.Text);
        }

        Assert.Equal("one", inUse.Value.Text);
        Assert.False(imports[0].Disposed);
        inUse.Dispose();
        Assert.True(imports[0].Disposed);
        Assert.False(imports[1].Disposed);
        cache.Dispose();
        Assert.True(imports[1].Disposed);
    }

    [Fact]
    public void A_reread_imports_an_unchanged_looking_file_again_and_disposes_the_version_it_replaces()
    {
        var path = Write("keys.jwks.json", "one");
        var stamp = File.GetLastWriteTimeUtc(path);
        using var cache = new CachedKeyFile<Imported>(path, Import);
        cache.Use().Dispose();

        // Rewritten within the file system's timestamp resolution, same length: only a reread sees it.
        File.WriteAllText(path, "two");
        File.SetLastWriteTimeUtc(path, stamp);
        using (var stale = cache.Use())
        {
            Assert.Equal("one", stale.Value.Text);
        }
        using (var reread = cache.Use(reread: true))
        {
            Assert.Equal("two", reread.Value.Text);
        }

        Assert.Equal(2, imports.Count);
        Assert.True(imports[0].Disposed);
        Assert.False(imports[1].Disposed);
    }

    [Fact]
    public void A_missing_file_or_a_failed_import_fails_that_use_and_the_next_use_tries_again()
    {
        var path = directory.Combine("later.jwks.json");
        using var cache = new CachedKeyFile<Imported>(path, text => text == "bad" ? throw new SealException("malformed") : Import(text));

        Assert.Throws<FileNotFoundException>(() => cache.Use());
        Write("later.jwks.json", "bad");
        Assert.Throws<SealException>(() => cache.Use());
        Write("later.jwks.json", "good");
        using var lease = cache.Use();

        Assert.Equal("good", lease.Value.Text);
    }

    public void Dispose() => directory.Dispose();

    private Imported Import(string text)
    {
        var imported = new Imported(text);
        imports.Add(imported);
        return imported;
    }

    private string Write(string name, string text)
    {
        var path = directory.Combine(name);
        var before = File.Exists(path) ? File.GetLastWriteTimeUtc(path) : DateTime.MinValue;
        File.WriteAllText(path, text);
        // A change is told by length or last write time: make sure the time moves even on a coarse file system.
        if (File.GetLastWriteTimeUtc(path) == before)
        {
            File.SetLastWriteTimeUtc(path, before.AddSeconds(1));
        }

        return path;
    }

    private sealed class Imported(string text) : IDisposable
    {
        public string Text { get; } = text;

        public bool Disposed { get; private set; }

        public void Dispose() => Disposed = true;
    }
}
