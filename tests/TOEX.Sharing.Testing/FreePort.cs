using System.Net;
using System.Net.Sockets;

namespace TOEX.Sharing.Testing;

/// <summary>TCP ports free on the loopback interface, never the same one twice in a process.</summary>
public static class FreePort
{
    private static readonly HashSet<int> Issued = [];
    private static readonly Lock Gate = new();

    /// <summary>A port nothing listens on now. Another process may still take it before you bind it.</summary>
    public static int Next() => Next(static _ => true);

    /// <summary>A free port that also satisfies <paramref name="accept"/>.</summary>
    public static int Next(Func<int, bool> accept)
    {
        ArgumentNullException.ThrowIfNull(accept);
        for (var attempt = 0; attempt < 200; attempt++)
        {
            var listener = new TcpListener(IPAddress.Loopback, 0);
            listener.Start();
            var port = ((IPEndPoint)listener.LocalEndpoint).Port;
            listener.Stop();
            lock (Gate)
            {
                if (accept(port) && Issued.Add(port))
                {
                    return port;
                }
            }
        }

        throw new InvalidOperationException("Found no free TCP port on 127.0.0.1 after 200 attempts.");
    }
}
