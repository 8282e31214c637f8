using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace TOEX.Sharing.Testing;

/// <summary>
/// TCP ports free on the loopback interface, never the same one twice in a process. Taken below the kernel's ephemeral
/// range (<c>/proc/sys/net/ipv4/ip_local_port_range</c>, 32768-60999 on Debian): a port from the ephemeral range, as
/// binding port 0 gives, can be taken by any process's outgoing connection between the check and the bind (seen in CI: a
/// gateway failed to start, "address already in use"), while a port below it is only ever taken by an explicit bind.
/// </summary>
public static class FreePort
{
    private static readonly HashSet<int> Issued = [];
    private static readonly Lock Gate = new();
    private static readonly (int Low, int High)? Range = BelowEphemeral();

    /// <summary>A port nothing listens on now. Another process may still bind it before you do.</summary>
    public static int Next() => Next(static _ => true);

    /// <summary>A free port that also satisfies <paramref name="accept"/>.</summary>
    public static int Next(Func<int, bool> accept)
    {
        ArgumentNullException.ThrowIfNull(accept);
        for (var attempt = 0; attempt < 500; attempt++)
        {
            var port = Range is var (low, high) ? Random.Shared.Next(low, high + 1) : Ephemeral();
            lock (Gate)
            {
                if (!accept(port) || Issued.Contains(port))
                {
                    continue;
                }
            }
            if (!CanListen(port))
            {
                continue;
            }
            lock (Gate)
            {
                if (Issued.Add(port))
                {
                    return port;
                }
            }
        }

        throw new InvalidOperationException("Found no free TCP port on 127.0.0.1 after 500 attempts.");
    }

    private static bool CanListen(int port)
    {
        var listener = new TcpListener(IPAddress.Loopback, port);
        try
        {
            listener.Start();
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
        finally
        {
            listener.Stop();
        }
    }

    /// <summary>A port the kernel picks (from its ephemeral range): where the range is not known.</summary>
    private static int Ephemeral()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }

    /// <summary>The upper half of the ports below the ephemeral range (16384-32767 on Debian), or null where it cannot be read.</summary>
    private static (int Low, int High)? BelowEphemeral()
    {
        string text;
        try
        {
            text = File.ReadAllText("/proc/sys/net/ipv4/ip_local_port_range");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
        var fields = text.Split((char[])['\t', ' ', '\n'], StringSplitOptions.RemoveEmptyEntries);
        return fields.Length > 0 && int.TryParse(fields[0], NumberStyles.None, CultureInfo.InvariantCulture, out var start) && start >= 4096
            ? (start / 2, start - 1)
            : null;
    }
}
