using System.Globalization;
using System.Text.Json;

namespace TOEX.Sharing.Testing;

/// <summary>One node of a <see cref="RabbitMqCluster"/>: 1-based <see cref="Number"/>, its AMQP port on 127.0.0.1.</summary>
public sealed record ClusterNode(int Number, int Port)
{
    /// <summary>The Erlang node name, as <c>rabbitmqctl</c> and queue members name it.</summary>
    public string Name => string.Create(CultureInfo.InvariantCulture, $"toex-{Port}@localhost");

    /// <summary><c>127.0.0.1:PORT</c>, as <c>RabbitMq:Nodes</c> takes it.</summary>
    public string Endpoint => string.Create(CultureInfo.InvariantCulture, $"127.0.0.1:{Port}");

    public override string ToString() => $"node {Number} ({Name})";
}

/// <summary>A queue of a virtual host as the cluster reports it (<c>rabbitmqctl list_queues</c>).</summary>
public sealed record QueueReplicas(string Name, string Type, IReadOnlyList<string> Members, IReadOnlyList<string> Online, string? Leader);

/// <summary>
/// A private three-node RabbitMQ cluster for fault tests, started by <c>deploy/rabbitmq/private-cluster.sh</c> on free
/// loopback ports under a temporary folder (three nodes started in parallel, one Erlang cookie, one private epmd,
/// nodes 2 and 3 joined to node 1), and stopped on dispose or when the test process exits. Any node can be killed,
/// stopped and started again; it rejoins the cluster. Without <c>rabbitmq-server</c> it fails and says how to install it.
/// </summary>
public sealed class RabbitMqCluster : IAsyncDisposable
{
    public const int Size = 3;

    private const int PortInUseExitCode = 75;
    private const int NotInstalledExitCode = 69;
    private const string FolderPrefix = "toex-test-rmqc-";
    private static readonly TimeSpan ScriptTimeout = TimeSpan.FromSeconds(300);
    private static int clusterCount;

    private readonly bool[] _running = [true, true, true];
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, string> _servicePasswords = new();
    private readonly EventHandler _stopOnProcessExit;
    private int _disposed;

    private RabbitMqCluster(string directory, IReadOnlyList<ClusterNode> nodes, Uri amqpUri, TimeSpan startupTime)
    {
        Directory = directory;
        Nodes = nodes;
        StartupTime = startupTime;
        var credentials = amqpUri.UserInfo.Split(':', 2);
        Username = Uri.UnescapeDataString(credentials[0]);
        Password = Uri.UnescapeDataString(credentials[1]);
        _stopOnProcessExit = (_, _) => StopAndDeleteAsync().GetAwaiter().GetResult();
        AppDomain.CurrentDomain.ProcessExit += _stopOnProcessExit;
    }

    /// <summary>The cluster's state folder (each node's under <c>node-N/</c>, its logs under <c>node-N/log/</c>).</summary>
    public string Directory { get; }

    /// <summary>The three nodes, node 1 (the one the others joined) first.</summary>
    public IReadOnlyList<ClusterNode> Nodes { get; }

    /// <summary>How long the three nodes took to start and form the cluster.</summary>
    public TimeSpan StartupTime { get; }

    /// <summary>A user allowed everything on the virtual hosts the cluster creates.</summary>
    public string Username { get; }

    /// <summary>That user's password.</summary>
    public string Password { get; }

    /// <summary>Whether <paramref name="node"/> runs, as far as this object stopped and started it.</summary>
    public bool IsRunning(ClusterNode node)
    {
        lock (_running)
        {
            return _running[node.Number - 1];
        }
    }

    /// <summary>Starts a new cluster of three private nodes on free ports (the script retries nothing: this does, on a port taken meanwhile).</summary>
    public static async Task<RabbitMqCluster> StartAsync(CancellationToken cancellationToken = default)
    {
        await RemoveAbandonedFoldersAsync();
        for (var attempt = 1; ; attempt++)
        {
            var directory = Path.Combine(Path.GetTempPath(),
                string.Create(CultureInfo.InvariantCulture, $"{FolderPrefix}{Environment.ProcessId}-{Interlocked.Increment(ref clusterCount)}"));
            var ports = Enumerable.Range(0, 2 * Size + 1).Select(_ => RabbitMqBroker.NextNodePort()).ToArray();
            var started = TimeProvider.System.GetTimestamp();
            var result = await RunScriptAsync(directory, cancellationToken,
                "start",
                "--ports", Join(ports[..Size]),
                "--dist-ports", Join(ports[Size..(2 * Size)]),
                "--epmd-port", Format(ports[2 * Size]),
                "--owner-pid", Format(Environment.ProcessId),
                "--remove-dir");
            if (result.ExitCode == 0)
            {
                var nodes = Enumerable.Range(0, Size).Select(i => new ClusterNode(i + 1, ports[i])).ToList();
                var uri = new Uri(result.StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)[^1]);
                return new RabbitMqCluster(directory, nodes, uri, TimeProvider.System.GetElapsedTime(started));
            }
            TryDelete(directory);
            if (result.ExitCode == NotInstalledExitCode)
            {
                throw new InvalidOperationException(
                    "A RabbitMQ cluster is needed by this test and rabbitmq-server is not installed. "
                    + "On Debian/Ubuntu: sudo apt-get install rabbitmq-server (the test starts private nodes; the system service is not used)."
                    + Environment.NewLine + result.StandardError.Trim());
            }
            if (result.ExitCode != PortInUseExitCode || attempt == 3)
            {
                throw new InvalidOperationException(
                    $"The private RabbitMQ cluster did not start (exit code {result.ExitCode}).{Environment.NewLine}{result.StandardError.Trim()}");
            }
        }
    }

    /// <summary>Every node but the first, as <c>RabbitMq:Nodes</c> takes them (the first is the URL's).</summary>
    public IReadOnlyList<string> OtherNodes => [.. Nodes.Skip(1).Select(n => n.Endpoint)];

    /// <summary>Creates a new virtual host (through a running node) and grants <see cref="Username"/> everything on it.</summary>
    public async Task<BrokerVhost> CreateVirtualHostAsync(string prefix, CancellationToken cancellationToken = default)
    {
        var name = RabbitMqBroker.UniqueName(prefix);
        await NodeCommandAsync(RunningNode(), cancellationToken, "add-vhost", name);
        var uri = new Uri(string.Create(CultureInfo.InvariantCulture,
            $"amqp://{Uri.EscapeDataString(Username)}:{Uri.EscapeDataString(Password)}@127.0.0.1:{Nodes[0].Port}/{Uri.EscapeDataString(name)}"));
        return new BrokerVhost(name, uri, "127.0.0.1", Nodes[0].Port, Username, Password);
    }

    /// <summary>
    /// The URL (node 1's) a service connects with to <paramref name="vhost"/> as its own user of
    /// <c>deploy/rabbitmq/definitions.json</c>, with only that file's permissions there.
    /// </summary>
    public async Task<Uri> ServiceUriAsync(BrokerVhost vhost, string service, CancellationToken cancellationToken = default)
    {
        var user = BrokerDefinitions.For(service);
        var password = _servicePasswords.GetOrAdd(user.Name, _ => Convert.ToHexString(System.Security.Cryptography.RandomNumberGenerator.GetBytes(16)));
        await NodeCommandAsync(RunningNode(), cancellationToken, "add-user", user.Name, password, vhost.Name, user.Configure, user.Write, user.Read);
        return new UriBuilder(vhost.AmqpUri) { UserName = Uri.EscapeDataString(user.Name), Password = Uri.EscapeDataString(password) }.Uri;
    }

    /// <summary>SIGKILLs the node's Erlang VM (what a crash or an OOM kill does) until <see cref="StartNodeAsync"/>.</summary>
    public async Task KillNodeAsync(ClusterNode node, CancellationToken cancellationToken = default)
    {
        await NodeCommandAsync(node, cancellationToken, "kill");
        SetRunning(node, false);
    }

    /// <summary>Stops the node cleanly (<c>rabbitmqctl stop</c>) until <see cref="StartNodeAsync"/>.</summary>
    public async Task StopNodeAsync(ClusterNode node, CancellationToken cancellationToken = default)
    {
        await NodeCommandAsync(node, cancellationToken, "stop");
        SetRunning(node, false);
    }

    /// <summary>Starts a stopped or killed node again; it rejoins the cluster (same ports, same data).</summary>
    public async Task StartNodeAsync(ClusterNode node, CancellationToken cancellationToken = default)
    {
        await NodeCommandAsync(node, cancellationToken, "start", "--owner-pid", Format(Environment.ProcessId), "--remove-dir");
        SetRunning(node, true);
    }

    /// <summary>Runs <c>rabbitmqctl</c> against <paramref name="node"/>; returns its output.</summary>
    public Task<string> ControlAsync(ClusterNode node, CancellationToken cancellationToken, params string[] arguments) =>
        NodeCommandAsync(node, cancellationToken, ["ctl", "--", .. arguments]);

    /// <summary>The queues of <paramref name="vhost"/>, their type, members, online members and leader, asked of a running node.</summary>
    public async Task<IReadOnlyList<QueueReplicas>> QueuesAsync(string vhost, CancellationToken cancellationToken = default)
    {
        var json = await ControlAsync(RunningNode(), cancellationToken,
            "-q", "list_queues", "-p", vhost, "name", "type", "members", "online", "leader", "--formatter", "json");
        using var document = JsonDocument.Parse(json);
        return [.. document.RootElement.EnumerateArray().Select(q => new QueueReplicas(
            q.GetProperty("name").GetString()!,
            q.GetProperty("type").GetString()!,
            Names(q, "members"),
            Names(q, "online"),
            q.TryGetProperty("leader", out var leader) && leader.ValueKind == JsonValueKind.String ? leader.GetString() : null))];
    }

    /// <summary>
    /// Waits until every quorum queue of <paramref name="vhost"/> has a member on each of the three nodes and all three
    /// are online (a returned node's members have restarted and rejoined their queues); returns the queues.
    /// </summary>
    public async Task<IReadOnlyList<QueueReplicas>> WaitUntilReplicatedAsync(string vhost, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        IReadOnlyList<QueueReplicas> queues = [];
        await Eventually.UntilAsync(async () =>
            {
                queues = await QueuesAsync(vhost, cancellationToken);
                return queues.Where(q => q.Type == "quorum").All(q => q.Members.Count == Size && q.Online.Count == Size);
            },
            timeout,
            () => $"Timed out ({timeout.TotalSeconds:0} s) waiting for every quorum queue of {vhost} to be online on all {Size} nodes:"
                + Environment.NewLine + Describe(queues),
            poll: TimeSpan.FromMilliseconds(500));
        return queues;
    }

    /// <summary>One line a queue: name, type, online/members, leader.</summary>
    public static string Describe(IEnumerable<QueueReplicas> queues) => string.Join(Environment.NewLine, queues.Select(q =>
        $"  {q.Name}: {q.Type}, online {q.Online.Count}/{q.Members.Count} [{string.Join(' ', q.Online)}], leader {q.Leader ?? "-"}"));

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1)
        {
            return;
        }
        AppDomain.CurrentDomain.ProcessExit -= _stopOnProcessExit;
        await StopAndDeleteAsync();
    }

    private async Task StopAndDeleteAsync()
    {
        try
        {
            await RunScriptAsync(Directory, CancellationToken.None, "stop", "--remove-dir");
        }
        finally
        {
            TryDelete(Directory);
        }
    }

    private ClusterNode RunningNode() =>
        Nodes.FirstOrDefault(IsRunning) ?? throw new InvalidOperationException("Every node of the cluster is stopped.");

    private void SetRunning(ClusterNode node, bool running)
    {
        lock (_running)
        {
            _running[node.Number - 1] = running;
        }
    }

    private async Task<string> NodeCommandAsync(ClusterNode node, CancellationToken cancellationToken, params string[] arguments)
    {
        ObjectDisposedException.ThrowIf(_disposed == 1, this);
        string[] command = ["node", Format(node.Number), arguments[0], "--dir", Directory, .. arguments[1..]];
        var result = await RunScriptAsync(Directory, cancellationToken, command);
        if (result.ExitCode != 0)
        {
            throw new InvalidOperationException(
                $"private-cluster.sh {string.Join(' ', command.Where(a => a != Directory))} failed with exit code {result.ExitCode}: {result.StandardError.Trim()}");
        }
        return result.StandardOutput;
    }

    /// <summary>Runs the script with <paramref name="arguments"/> (which name the folder, or it is added at the end).</summary>
    private static Task<ProcessResult> RunScriptAsync(string directory, CancellationToken cancellationToken, params string[] arguments) =>
        ProcessRunner.RunAsync("bash", [RepoPaths.PrivateClusterScript, .. arguments, .. arguments.Contains("--dir") ? Array.Empty<string>() : ["--dir", directory]],
            ScriptTimeout, cancellationToken);

    private static IReadOnlyList<string> Names(JsonElement queue, string property) =>
        queue.TryGetProperty(property, out var value) && value.ValueKind == JsonValueKind.Array
            ? [.. value.EnumerateArray().Select(v => v.GetString()!)]
            : [];

    private static string Join(IEnumerable<int> ports) => string.Join(',', ports.Select(Format));

    private static string Format(int value) => value.ToString(CultureInfo.InvariantCulture);

    /// <summary>Folders of test processes that no longer exist (their nodes' watchers normally cleaned up).</summary>
    private static async Task RemoveAbandonedFoldersAsync()
    {
        foreach (var folder in System.IO.Directory.EnumerateDirectories(Path.GetTempPath(), FolderPrefix + "*"))
        {
            var parts = Path.GetFileName(folder)[FolderPrefix.Length..].Split('-');
            if (!int.TryParse(parts[0], CultureInfo.InvariantCulture, out var pid) || IsAlive(pid))
            {
                continue;
            }
            if (File.Exists(Path.Combine(folder, "cluster.env")))
            {
                await RunScriptAsync(folder, CancellationToken.None, "stop");
            }
            TryDelete(folder);
        }
    }

    private static bool IsAlive(int pid)
    {
        try
        {
            using var process = System.Diagnostics.Process.GetProcessById(pid);
            return !process.HasExited;
        }
        catch (Exception e) when (e is ArgumentException or InvalidOperationException)
        {
            return false;
        }
    }

    private static void TryDelete(string directory)
    {
        try
        {
            if (System.IO.Directory.Exists(directory))
            {
                System.IO.Directory.Delete(directory, recursive: true);
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Best effort: a file still open by a dying node, or another user's folder; the next run removes it.
        }
    }
}
