using System.Diagnostics;

namespace TOEX.Sharing.Testing;

/// <summary>
/// A private SoftHSM2 token store for one test process: its own <c>softhsm2.conf</c> and token directory under the
/// temp folder (never the system's), with one token initialised by <c>softhsm2-util --init-token --free</c>.
/// A process loads a PKCS#11 module once, reading <c>SOFTHSM2_CONF</c> then, and SoftHSM2 sees only the tokens that
/// existed at that moment: so there is one store and one token per test process, made before anything loads the
/// module, and tests keep apart by label prefix. Child processes (the services) get <see cref="Environment"/>.
/// Needs Debian's <c>softhsm2</c> package; fails saying so when it is missing.
/// </summary>
public sealed partial class SoftHsm
{
    public const string TokenLabel = "toex-tests";
    public const string UserPin = "4951-test-pin";
    private const string SecurityOfficerPin = "4951-test-so-pin";

    private static readonly Lazy<SoftHsm> Shared = new(Create, LazyThreadSafetyMode.ExecutionAndPublication);

    private SoftHsm(string directory, string configPath, string library)
    {
        Directory = directory;
        ConfigPath = configPath;
        Library = library;
    }

    /// <summary>This test process's token store, made (and <c>SOFTHSM2_CONF</c> set for this process) on first use.</summary>
    public static SoftHsm Instance => Shared.Value;

    public string Directory { get; }

    public string ConfigPath { get; }

    /// <summary>The PKCS#11 module: <c>libsofthsm2.so</c>.</summary>
    public string Library { get; }

    /// <summary>Where the token's objects are stored (files SoftHSM2 writes), for a search for key material outside the token.</summary>
    public string TokenDirectory => Path.Combine(Directory, "tokens");

    /// <summary>What a child process needs to see the same tokens.</summary>
    public IReadOnlyDictionary<string, string?> Environment => new Dictionary<string, string?> { ["SOFTHSM2_CONF"] = ConfigPath };

    /// <summary>A file holding the user PIN (0600), as a service reads it (<c>KeyCustody:Pkcs11:PinFile</c>).</summary>
    public string PinFile => Path.Combine(Directory, "user.pin");

    private static SoftHsm Create()
    {
        var library = new[] { "/usr/lib/softhsm/libsofthsm2.so", "/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so", "/usr/lib/aarch64-linux-gnu/softhsm/libsofthsm2.so" }
            .FirstOrDefault(File.Exists)
            ?? throw new InvalidOperationException("SoftHSM2 is not installed (no libsofthsm2.so): install Debian's softhsm2 package (.ci/run does).");
        var directory = System.IO.Directory.CreateTempSubdirectory("toex-softhsm-").FullName;
        System.IO.Directory.CreateDirectory(Path.Combine(directory, "tokens"));
        var config = Path.Combine(directory, "softhsm2.conf");
        File.WriteAllText(config, $"directories.tokendir = {Path.Combine(directory, "tokens")}\nobjectstore.backend = file\nlog.level = ERROR\nslots.removable = false\n");
        var hsm = new SoftHsm(directory, config, library);
        hsm.Util("--init-token", "--free", "--label", TokenLabel, "--so-pin", SecurityOfficerPin, "--pin", UserPin);
        File.WriteAllText(hsm.PinFile, UserPin + "\n");
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(hsm.PinFile, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        }
        // This process's own loads of the module (the tests' custody objects) read the same store. The module reads
        // the native environment (getenv), which .NET's Environment.SetEnvironmentVariable does not change on Unix.
        System.Environment.SetEnvironmentVariable("SOFTHSM2_CONF", config);
        if (!OperatingSystem.IsWindows() && NativeMethods.setenv("SOFTHSM2_CONF", config, 1) != 0)
        {
            throw new InvalidOperationException("Could not set SOFTHSM2_CONF in the process environment.");
        }
        return hsm;
    }

    private static partial class NativeMethods
    {
        [System.Runtime.InteropServices.LibraryImport("libc", StringMarshalling = System.Runtime.InteropServices.StringMarshalling.Utf8)]
        internal static partial int setenv(string name, string value, int overwrite);
    }

    private void Util(params string[] arguments)
    {
        var start = new ProcessStartInfo("softhsm2-util") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }
        start.Environment["SOFTHSM2_CONF"] = ConfigPath;
        Process process;
        try
        {
            process = Process.Start(start) ?? throw new InvalidOperationException("softhsm2-util did not start.");
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            throw new InvalidOperationException("softhsm2-util is not installed: install Debian's softhsm2 package (.ci/run does).", e);
        }
        using (process)
        {
            var output = process.StandardOutput.ReadToEndAsync();
            var error = process.StandardError.ReadToEnd();
            if (!process.WaitForExit(TimeSpan.FromSeconds(60)))
            {
                process.Kill();
                throw new TimeoutException("softhsm2-util did not finish within 60 s.");
            }
            if (process.ExitCode != 0)
            {
                throw new InvalidOperationException($"softhsm2-util {string.Join(' ', arguments.Where(a => !a.Contains("pin", StringComparison.Ordinal)))} failed ({process.ExitCode}): {error} {output.Result}");
            }
        }
    }
}
