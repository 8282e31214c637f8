using System.Runtime.InteropServices;

namespace TOEX.Sharing.Sealing;

/// <summary>
/// Writes key material so that only the owner can read it: directories 0700, private files 0600,
/// with the mode set when the file is created (no moment where it is readable by others).
/// </summary>
public static class SecureFiles
{
    private const UnixFileMode OwnerOnlyDirectory = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;
    private const UnixFileMode OwnerOnlyFile = UnixFileMode.UserRead | UnixFileMode.UserWrite;
    private const UnixFileMode PublicFile = OwnerOnlyFile | UnixFileMode.GroupRead | UnixFileMode.OtherRead;

    /// <summary><c>EEXIST</c>, the same number on Linux and macOS.</summary>
    private const int ErrorFileExists = 17;

    /// <summary>Creates the directory (and its missing parents) readable by the owner only; an existing one is left as it is.</summary>
    public static void CreatePrivateDirectory(string path)
    {
        if (Directory.Exists(path))
        {
            return;
        }

        if (OperatingSystem.IsWindows())
        {
            Directory.CreateDirectory(path);
            return;
        }

        Directory.CreateDirectory(path, OwnerOnlyDirectory);
        File.SetUnixFileMode(path, OwnerOnlyDirectory);
    }

    /// <summary>
    /// Refuses key material that others than its owner can reach: a directory or file with any group or other
    /// permission bit (Unix). Windows has no such modes; there the directory's ACL is the operator's business.
    /// </summary>
    public static void EnsureOwnerOnly(string path, string what)
    {
        if (OperatingSystem.IsWindows())
        {
            return;
        }

        var mode = File.GetUnixFileMode(path);
        const UnixFileMode others = UnixFileMode.GroupRead | UnixFileMode.GroupWrite | UnixFileMode.GroupExecute
            | UnixFileMode.OtherRead | UnixFileMode.OtherWrite | UnixFileMode.OtherExecute;
        if ((mode & others) != 0)
        {
            var octal = Convert.ToString((int)mode & 0x1FF, 8);
            throw new SealException($"{what} is open to other users (mode {octal}); key material must be readable by its owner only "
                + $"(chmod {(Directory.Exists(path) ? "700" : "600")} '{path}').");
        }
    }

    /// <summary>Writes a new file; fails with <see cref="IOException"/> if it exists (keys are never overwritten).</summary>
    public static void WriteNew(string path, string content, bool isPrivate)
    {
        using var stream = new FileStream(path, Options(FileMode.CreateNew, isPrivate));
        using var writer = new StreamWriter(stream);
        writer.Write(content);
    }

    /// <summary>
    /// Writes through a temporary file and renames it into place, so a reader sees the old or the
    /// new content, never half. Returns false when <paramref name="overwrite"/> is false and the file
    /// already exists (another process won the race).
    /// </summary>
    public static bool WriteAtomically(string path, string content, bool isPrivate, bool overwrite)
    {
        var temporary = Path.Combine(Path.GetDirectoryName(Path.GetFullPath(path))!, $".{Path.GetFileName(path)}.{Guid.NewGuid():N}.tmp");
        WriteNew(temporary, content, isPrivate);
        try
        {
            if (overwrite)
            {
                File.Move(temporary, path, overwrite: true);
                return true;
            }

            return MoveIfAbsent(temporary, path);
        }
        finally
        {
            File.Delete(temporary);
        }
    }

    /// <summary>
    /// Puts <paramref name="temporary"/> in place at <paramref name="path"/> unless a file is there, in one step.
    /// .NET's <c>File.Move(…, overwrite: false)</c> is not that on Unix: it looks for the destination and then
    /// renames, so two processes that both find nothing both "win" and the second silently replaces the first's
    /// file (a key ring's manifest, a blind-index key). <c>link(2)</c> fails with <c>EEXIST</c> atomically.
    /// On Windows <c>MoveFileEx</c> without <c>MOVEFILE_REPLACE_EXISTING</c> is already atomic.
    /// </summary>
    private static bool MoveIfAbsent(string temporary, string path)
    {
        if (OperatingSystem.IsWindows())
        {
            try
            {
                File.Move(temporary, path, overwrite: false);
                return true;
            }
            catch (IOException) when (File.Exists(path))
            {
                return false;
            }
        }

        if (Link(temporary, path) == 0)
        {
            return true;
        }

        var error = Marshal.GetLastPInvokeError();
        if (error == ErrorFileExists)
        {
            return false;
        }

        throw new IOException($"Cannot create '{path}': {Marshal.GetPInvokeErrorMessage(error)}.");
    }

    [DllImport("libc", EntryPoint = "link", SetLastError = true)]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    private static extern int Link([MarshalAs(UnmanagedType.LPUTF8Str)] string existing, [MarshalAs(UnmanagedType.LPUTF8Str)] string created);

    private static FileStreamOptions Options(FileMode mode, bool isPrivate)
    {
        var options = new FileStreamOptions { Mode = mode, Access = FileAccess.Write, Share = FileShare.None };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = isPrivate ? OwnerOnlyFile : PublicFile;
        }

        return options;
    }
}
