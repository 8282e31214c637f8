using System.Net;
using System.Net.Sockets;
using System.Text;

namespace TOEX.Sharing.Testing;

/// <summary>Where a test run's RabbitMQ and PostgreSQL come from.</summary>
public enum InfrastructureSource
{
    /// <summary>Containers started with Testcontainers on a reachable Docker engine.</summary>
    Containers,

    /// <summary>A private node of the installed rabbitmq-server and a private cluster of the installed postgresql (deploy/ scripts).</summary>
    PrivateProcesses,
}

/// <summary>The choice, and why it was made (printed once per run).</summary>
public sealed record InfrastructureChoice(InfrastructureSource Source, string Reason)
{
    public override string ToString() => Source == InfrastructureSource.Containers
        ? $"RabbitMQ and PostgreSQL in containers (Testcontainers): {Reason}"
        : $"RabbitMQ and PostgreSQL as private processes (deploy/rabbitmq/private-node.sh, deploy/postgres/private-cluster.sh): {Reason}";
}

/// <summary>
/// Chooses once per test run between containers (a Docker engine answers <c>/_ping</c> at <c>DOCKER_HOST</c>, or at
/// <c>/var/run/docker.sock</c> when it is unset) and the private node and cluster scripts (no engine: this project's
/// machines). <c>TOEX_TEST_CONTAINERS=never</c> forces the private processes where an engine exists.
/// <c>TOEX_RABBITMQ_URL</c> and <c>TOEX_POSTGRES_URL</c> still name external servers and win over both.
/// </summary>
public static class TestInfrastructure
{
    public const string ContainersVariable = "TOEX_TEST_CONTAINERS";
    public const string DefaultDockerHost = "unix:///var/run/docker.sock";

    private static readonly Lazy<Task<InfrastructureChoice>> Chosen = new(async () =>
    {
        var choice = await ChooseAsync(Environment.GetEnvironmentVariable("DOCKER_HOST"), Environment.GetEnvironmentVariable(ContainersVariable));
        Console.Error.WriteLine($"[TOEX.Sharing.Testing] test infrastructure: {choice}");
        return choice;
    });

    /// <summary>This run's choice, made on first use and printed to standard error.</summary>
    public static Task<InfrastructureChoice> ChoiceAsync() => Chosen.Value;

    /// <summary>The choice for a Docker endpoint (<paramref name="dockerHost"/>, null for the default socket) and the override.</summary>
    public static async Task<InfrastructureChoice> ChooseAsync(string? dockerHost, string? containers, CancellationToken cancellationToken = default)
    {
        if (string.Equals(containers, "never", StringComparison.OrdinalIgnoreCase))
        {
            return new(InfrastructureSource.PrivateProcesses, $"{ContainersVariable}=never");
        }
        var endpoint = string.IsNullOrWhiteSpace(dockerHost) ? DefaultDockerHost : dockerHost.Trim();
        var problem = await PingAsync(endpoint, cancellationToken);
        return problem is null
            ? new(InfrastructureSource.Containers, $"a Docker engine answers at {endpoint}")
            : new(InfrastructureSource.PrivateProcesses, $"no Docker engine at {endpoint} ({problem})");
    }

    /// <summary>Asks the engine's <c>GET /_ping</c> (unix socket or tcp); null when it answers OK, else why not.</summary>
    public static async Task<string?> PingAsync(string endpoint, CancellationToken cancellationToken = default)
    {
        if (!Uri.TryCreate(endpoint, UriKind.Absolute, out var uri))
        {
            return "not a URI";
        }
        EndPoint target;
        if (uri.Scheme == "unix")
        {
            if (!File.Exists(uri.AbsolutePath))
            {
                return "no such socket";
            }
            target = new UnixDomainSocketEndPoint(uri.AbsolutePath);
        }
        else if (uri.Scheme is "tcp" or "http")
        {
            target = new DnsEndPoint(uri.Host, uri.Port < 0 ? 2375 : uri.Port);
        }
        else
        {
            return $"scheme {uri.Scheme} is not probed (tls and ssh engines: set {ContainersVariable}=never or use the private processes)";
        }

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(3));
        try
        {
            using var socket = new Socket(target.AddressFamily == AddressFamily.Unspecified ? AddressFamily.InterNetwork : target.AddressFamily,
                SocketType.Stream, target is UnixDomainSocketEndPoint ? ProtocolType.Unspecified : ProtocolType.Tcp);
            await socket.ConnectAsync(target, timeout.Token);
            await socket.SendAsync(Encoding.ASCII.GetBytes("GET /_ping HTTP/1.0\r\nHost: docker\r\n\r\n"), timeout.Token);
            var buffer = new byte[4096];
            var answer = new StringBuilder();
            int read;
            while ((read = await socket.ReceiveAsync(buffer, timeout.Token)) > 0 && answer.Length < 65536)
            {
                answer.Append(Encoding.ASCII.GetString(buffer, 0, read));
            }
            var text = answer.ToString();
            return text.StartsWith("HTTP/1.", StringComparison.Ordinal) && text.Contains(" 200 ", StringComparison.Ordinal)
                && text.TrimEnd().EndsWith("OK", StringComparison.Ordinal) ? null : "it did not answer /_ping with OK";
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return "no answer within 3 s";
        }
        catch (SocketException e)
        {
            return e.Message;
        }
    }
}
