using System.Collections.Concurrent;
using System.Runtime.InteropServices;
using Net.Pkcs11Interop.Common;
using Net.Pkcs11Interop.HighLevelAPI;

namespace TOEX.Sharing.KeyCustody.Pkcs11;

/// <summary>
/// One token of a PKCS#11 module, logged in as its user: a pool of sessions that every purpose's custody shares.
/// The module is loaded (C_Initialize) once per process and path, and finalised when the last token using it is disposed.
/// </summary>
public sealed class Pkcs11Token : IDisposable
{
    private static readonly Lock Modules = new();
    private static readonly Dictionary<string, (IPkcs11Library Library, int Users)> Loaded = new(StringComparer.Ordinal);

    private readonly string libraryPath;
    private readonly ISlot slot;
    private readonly ConcurrentBag<ISession> idle = [];
    private readonly ISession anchor;
    private bool disposed;

    static Pkcs11Token()
    {
        // Pkcs11Interop 5.3 calls dlopen through "libdl", which glibc 2.34+ (Debian 12) ships only as libdl.so.2.
        try
        {
            NativeLibrary.SetDllImportResolver(typeof(Pkcs11InteropFactories).Assembly, (name, _, _) =>
                name == "libdl" && OperatingSystem.IsLinux() && NativeLibrary.TryLoad("libdl.so.2", out var handle) ? handle : IntPtr.Zero);
        }
        catch (InvalidOperationException)
        {
            // Already set in this process.
        }
    }

    private Pkcs11Token(string libraryPath, ISlot slot, ISession anchor, string tokenLabel)
    {
        this.libraryPath = libraryPath;
        this.slot = slot;
        this.anchor = anchor;
        TokenLabel = tokenLabel;
    }

    public string TokenLabel { get; }

    internal Pkcs11InteropFactories Factories { get; } = new();

    /// <summary>Loads the module, finds the token by label and logs in with the user PIN.</summary>
    /// <exception cref="KeyCustodyException">The module cannot be loaded, no token has that label, or the PIN is refused.</exception>
    public static Pkcs11Token Open(string libraryPath, string tokenLabel, byte[] pin)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(libraryPath);
        ArgumentException.ThrowIfNullOrWhiteSpace(tokenLabel);
        var library = Acquire(libraryPath);
        try
        {
            var slot = library.GetSlotList(SlotsType.WithTokenPresent).FirstOrDefault(s => s.GetTokenInfo().Label.Trim() == tokenLabel)
                ?? throw new KeyCustodyException($"The PKCS#11 module '{libraryPath}' has no token labelled '{tokenLabel}' (KeyCustody:Pkcs11:TokenLabel).");
            var anchor = slot.OpenSession(SessionType.ReadWrite);
            try
            {
                anchor.Login(CKU.CKU_USER, pin);
            }
            catch (Pkcs11Exception e) when (e.RV == CKR.CKR_USER_ALREADY_LOGGED_IN)
            {
                // Another custody of this process logged in to the same token: the login is shared.
            }
            catch (Pkcs11Exception e)
            {
                anchor.Dispose();
                throw new KeyCustodyException($"The token '{tokenLabel}' refused the user PIN ({e.RV}) (KeyCustody:Pkcs11:Pin or PinFile).");
            }
            return new Pkcs11Token(libraryPath, slot, anchor, tokenLabel);
        }
        catch
        {
            Release(libraryPath);
            throw;
        }
    }

    /// <summary>Runs <paramref name="work"/> on a logged-in session of its own (sessions are not shared between threads).</summary>
    internal T Run<T>(Func<ISession, T> work)
    {
        ObjectDisposedException.ThrowIf(disposed, this);
        if (!idle.TryTake(out var session))
        {
            session = slot.OpenSession(SessionType.ReadWrite);
        }
        try
        {
            var result = work(session);
            idle.Add(session);
            return result;
        }
        catch (Pkcs11Exception e)
        {
            session.Dispose();
            throw new KeyCustodyException($"The PKCS#11 token '{TokenLabel}' failed: {e.Method} returned {e.RV}.", e);
        }
        catch
        {
            session.Dispose();
            throw;
        }
    }

    public void Dispose()
    {
        if (disposed)
        {
            return;
        }
        disposed = true;
        while (idle.TryTake(out var session))
        {
            session.Dispose();
        }
        anchor.Dispose();
        Release(libraryPath);
    }

    private static IPkcs11Library Acquire(string path)
    {
        lock (Modules)
        {
            if (Loaded.TryGetValue(path, out var loaded))
            {
                Loaded[path] = (loaded.Library, loaded.Users + 1);
                return loaded.Library;
            }
            IPkcs11Library library;
            try
            {
                var factories = new Pkcs11InteropFactories();
                library = factories.Pkcs11LibraryFactory.LoadPkcs11Library(factories, path, AppType.MultiThreaded);
            }
            catch (Exception e) when (e is Pkcs11Exception or UnmanagedException or DllNotFoundException or IOException)
            {
                throw new KeyCustodyException($"The PKCS#11 module '{path}' cannot be loaded (KeyCustody:Pkcs11:Library): {e.Message}", e);
            }
            Loaded[path] = (library, 1);
            return library;
        }
    }

    private static void Release(string path)
    {
        lock (Modules)
        {
            if (!Loaded.TryGetValue(path, out var loaded))
            {
                return;
            }
            if (loaded.Users > 1)
            {
                Loaded[path] = (loaded.Library, loaded.Users - 1);
                return;
            }
            Loaded.Remove(path);
            loaded.Library.Dispose();
        }
    }
}
