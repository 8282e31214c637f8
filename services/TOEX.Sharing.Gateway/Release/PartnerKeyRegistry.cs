using TOEX.Sharing.Sealing;

namespace TOEX.Sharing.Gateway.Release;

/// <summary>What a change to a partner's key set writes (null: nothing) and what it answers.</summary>
public sealed record PartnerKeyChange<TResult>(string? NewText, TResult Result);

/// <summary>The partner registry cannot be changed now (its lock is held too long, or the folder is not writable).</summary>
public sealed class PartnerRegistryUnavailableException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>
/// Changes partners' key sets in the registry folder, safely when several gateway instances share it:
/// <list type="bullet">
/// <item>one writer per partner at a time, across processes: an exclusive lock on <c>.PARTNER.jwks.json.lock</c> (an OS file
/// lock, <c>flock</c> on Linux, released by the OS if the process dies, so never stale), waited for up to ten seconds;</item>
/// <item>the change is computed from the file read afresh under the lock, never from a cached copy, so a key another
/// instance added a moment before is kept;</item>
/// <item>the new text is written to a temporary file in the same folder, flushed to disk and given the file's mode (0644
/// for a new file), and renamed over the file (atomic: a reader sees the old set or the new, never half);</item>
/// <item>the caller's commit (the ledger event in the outbox) runs between the two, so a change is made only once it is
/// recorded: a failed commit leaves the file untouched. Only a crash between the commit and the rename could record a
/// change that was not made (the key list shows what was).</item>
/// </list>
/// The folder must be on a file system with working locks (a local disk, NFSv4; in Kubernetes a ReadWriteMany volume
/// that honours them) and owned by the gateway's user.
/// </summary>
public sealed class PartnerKeyRegistry(PartnerKeys keys, ILogger<PartnerKeyRegistry> logger)
{
    private const int LockAttempts = 400;
    private static readonly TimeSpan LockPause = TimeSpan.FromMilliseconds(25);
    private const UnixFileMode NewFileMode = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead;

    /// <summary>
    /// Under the partner's lock: reads its set, asks <paramref name="change"/> what to write, and if anything, writes it,
    /// running <paramref name="commit"/> before the new file takes effect.
    /// </summary>
    /// <exception cref="PartnerRegistryUnavailableException">The lock was not had in time, or the folder cannot be written.</exception>
    public async Task<TResult> ChangeAsync<TResult>(string partner, Func<PartnerKeySetRead, PartnerKeyChange<TResult>> change,
        Func<CancellationToken, Task> commit, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(change);
        ArgumentNullException.ThrowIfNull(commit);
        var file = keys.FileOf(partner) ?? throw new ArgumentException("The partner id cannot name a key file.", nameof(partner));
        var directory = keys.Directory;
        try
        {
            SecureFiles.CreatePrivateDirectory(directory);
            await using var held = await LockAsync(Path.Combine(directory, $".{Path.GetFileName(file)}.lock"), cancellationToken);
            var outcome = change(PartnerKeys.ReadFile(partner, file));
            if (outcome.NewText is null)
            {
                return outcome.Result;
            }
            var temporary = Path.Combine(directory, $".{Path.GetFileName(file)}.{Guid.NewGuid():N}.tmp");
            await WriteAsync(temporary, outcome.NewText, File.Exists(file) && !OperatingSystem.IsWindows() ? File.GetUnixFileMode(file) : NewFileMode,
                cancellationToken);
            try
            {
                await commit(cancellationToken);
            }
            catch
            {
                File.Delete(temporary);
                throw;
            }
            try
            {
                File.Move(temporary, file, overwrite: true);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                logger.LogCritical(e, "ALERT: the key set change of partner {Partner} is recorded for the ledger but could not be put in place; "
                    + "the registry still holds the set as it was", partner);
                throw new PartnerRegistryUnavailableException("The partner registry could not be written.", e);
            }
            return outcome.Result;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            logger.LogError(e, "The partner registry at {Directory} could not be changed for partner {Partner}", directory, partner);
            throw new PartnerRegistryUnavailableException("The partner registry cannot be written (a read-only or unreachable folder).", e);
        }
    }

    private static async Task<FileStream> LockAsync(string path, CancellationToken cancellationToken)
    {
        var options = new FileStreamOptions { Mode = FileMode.OpenOrCreate, Access = FileAccess.ReadWrite, Share = FileShare.None };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return new FileStream(path, options);
            }
            catch (IOException e) when (IsHeldElsewhere(e))
            {
                if (attempt == LockAttempts)
                {
                    throw new PartnerRegistryUnavailableException("Another change to this partner's keys is under way; try again.", e);
                }
                await Task.Delay(LockPause, cancellationToken);
            }
        }
    }

    /// <summary>A lock another process (or another handle) holds: EWOULDBLOCK on Linux and macOS, a sharing or lock violation on Windows.</summary>
    private static bool IsHeldElsewhere(IOException e) =>
        e.HResult is 11 or 35 or unchecked((int)0x80070020) or unchecked((int)0x80070021);

    private static async Task WriteAsync(string path, string text, UnixFileMode mode, CancellationToken cancellationToken)
    {
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write, Share = FileShare.None };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = mode;
        }
        try
        {
            await using (var stream = new FileStream(path, options))
            {
                await using var writer = new StreamWriter(stream);
                await writer.WriteAsync(text.AsMemory(), cancellationToken);
                await writer.FlushAsync(cancellationToken);
                stream.Flush(flushToDisk: true);
            }
            if (!OperatingSystem.IsWindows())
            {
                // The creation mode is narrowed by the umask: set it exactly.
                File.SetUnixFileMode(path, mode);
            }
        }
        catch
        {
            File.Delete(path);
            throw;
        }
    }
}
