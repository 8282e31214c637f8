namespace TOEX.Sharing.Sealing;

/// <summary>
/// A key file (a JWKS) read and imported once, and again whenever it changes on disk (its length or last write time),
/// so a rotated key is picked up without a restart and nothing is imported per use. Each use holds a
/// <see cref="Lease"/>: a version that a change replaced is disposed once its last lease ends, never under a user.
/// Safe from several threads at once.
/// </summary>
public sealed class CachedKeyFile<T>(string path, Func<string, T> import) : IDisposable where T : class, IDisposable
{
    private readonly Lock gate = new();
    private Version? current;
    private bool disposed;

    public string Path { get; } = path;

    /// <summary>
    /// The keys as the file holds them now. Throws <see cref="FileNotFoundException"/> when the file is missing and
    /// whatever the import throws (e.g. <see cref="SealException"/>) when it cannot be read; the next use tries again.
    /// <paramref name="reread"/> reads the file again even if it looks unchanged (a write within the file system's
    /// timestamp resolution that kept its length).
    /// </summary>
    public Lease Use(bool reread = false)
    {
        var file = new FileInfo(Path);
        if (!file.Exists)
        {
            throw new FileNotFoundException($"The key file {Path} does not exist.", Path);
        }

        lock (gate)
        {
            ObjectDisposedException.ThrowIf(disposed, this);
            if (reread || current is null || current.Written != file.LastWriteTimeUtc || current.Length != file.Length)
            {
                var replaced = current;
                current = new Version(import(File.ReadAllText(Path)), file.LastWriteTimeUtc, file.Length);
                replaced?.Release();
            }

            current.AddUser();
            return new Lease(current);
        }
    }

    public void Dispose()
    {
        lock (gate)
        {
            disposed = true;
            current?.Release();
            current = null;
        }
    }

    /// <summary>One use of the keys; dispose it when done.</summary>
    public readonly struct Lease : IDisposable
    {
        private readonly Version version;

        internal Lease(Version version) => this.version = version;

        public T Value => version.Value;

        public void Dispose() => version?.Release();
    }

    /// <summary>A version of the file's keys, disposed when neither the cache nor any lease holds it.</summary>
    internal sealed class Version(T value, DateTime written, long length)
    {
        /// <summary>The cache's own hold counts as one.</summary>
        private int users = 1;

        public T Value { get; } = value;

        public DateTime Written { get; } = written;

        public long Length { get; } = length;

        public void AddUser() => Interlocked.Increment(ref users);

        public void Release()
        {
            if (Interlocked.Decrement(ref users) == 0)
            {
                Value.Dispose();
            }
        }
    }
}
