using System.Globalization;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;

namespace TOEX.Sharing.Testing;

/// <summary>
/// A RabbitMQ broker for tests. With <c>TOEX_RABBITMQ_URL</c> set it is that broker (virtual hosts
/// are created through <c>TOEX_RABBITMQ_MANAGEMENT_URL</c> when given); otherwise it is a private
/// node of the installed <c>rabbitmq-server</c>, started by <c>deploy/rabbitmq/private-node.sh</c>
/// on free ports under a temporary folder, and stopped on dispose or when the test process exits.
/// Without <c>rabbitmq-server</c> it fails and says how to install it: tests that need a broker
/// are never skipped.
/// </summary>
public sealed class RabbitMqBroker : IAsyncDisposable
{
    public const string UrlVariable = "TOEX_RABBITMQ_URL";
    public const string ManagementUrlVariable = "TOEX_RABBITMQ_MANAGEMENT_URL";

    private const string DefaultVirtualHost = "/";
    private static readonly TimeSpan ScriptTimeout = TimeSpan.FromSeconds(180);
    private static readonly SemaphoreSlim SharedGate = new(1, 1);
    private static int nodeCount;
    private static RabbitMqBroker? shared;

    private readonly PrivateNode? node;
    private readonly HttpClient? management;
    private readonly string urlVirtualHost;
    private readonly string scheme;
    private readonly List<string> warnings = [];
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, string> servicePasswords = new();
    private readonly EventHandler? stopOnProcessExit;
    private bool isShared;
    private int disposed;

    private RabbitMqBroker(Uri amqpUri, PrivateNode? node, HttpClient? management)
    {
        this.node = node;
        this.management = management;
        scheme = amqpUri.Scheme;
        Host = amqpUri.Host;
        Port = amqpUri.IsDefaultPort || amqpUri.Port < 0 ? (scheme == "amqps" ? 5671 : 5672) : amqpUri.Port;
        var credentials = amqpUri.UserInfo.Split(':', 2);
        Username = credentials[0].Length > 0 ? Uri.UnescapeDataString(credentials[0]) : "guest";
        Password = credentials.Length > 1 ? Uri.UnescapeDataString(credentials[1]) : "guest";
        var path = amqpUri.AbsolutePath.TrimStart('/');
        urlVirtualHost = path.Length == 0 ? DefaultVirtualHost : Uri.UnescapeDataString(path);
        if (node is not null)
        {
            stopOnProcessExit = (_, _) => node.StopAndDelete();
            AppDomain.CurrentDomain.ProcessExit += stopOnProcessExit;
        }
    }

    /// <summary>Broker host name or address.</summary>
    public string Host { get; }

    /// <summary>AMQP port.</summary>
    public int Port { get; }

    /// <summary>A user allowed everything on the virtual hosts this broker creates.</summary>
    public string Username { get; }

    /// <summary>That user's password.</summary>
    public string Password { get; }

    /// <summary>True for a private node (which <see cref="StopAsync"/> and <see cref="StartAsync"/> can stop and restart).</summary>
    public bool IsPrivateNode => node is not null;

    /// <summary>False only while a private node is stopped by <see cref="StopAsync"/>.</summary>
    public bool IsRunning => node?.IsRunning ?? true;

    /// <summary>The private node's state folder (logs under <c>log/</c>), or null for an external broker.</summary>
    public string? NodeDirectory => node?.Directory;

    /// <summary>How long the private node took to become ready, or null for an external broker.</summary>
    public TimeSpan? StartupTime => node?.StartupTime;

    /// <summary>Warnings worth showing in test output (also written to standard error).</summary>
    public IReadOnlyList<string> Warnings
    {
        get
        {
            lock (warnings)
            {
                return [.. warnings];
            }
        }
    }

    /// <summary>
    /// The process-wide broker, started on first use and stopped when the process exits (its
    /// <see cref="DisposeAsync"/> does nothing). Use it from every fixture of a test project so the
    /// project starts one node, not one per fixture.
    /// </summary>
    public static async Task<RabbitMqBroker> GetSharedAsync(CancellationToken cancellationToken = default)
    {
        await SharedGate.WaitAsync(cancellationToken);
        try
        {
            if (shared is null)
            {
                shared = await CreateAsync(cancellationToken);
                shared.isShared = true;
            }

            return shared;
        }
        finally
        {
            SharedGate.Release();
        }
    }

    /// <summary>
    /// A broker owned by the caller: the one named by <c>TOEX_RABBITMQ_URL</c>, or a container where a Docker engine
    /// is reachable, or a new private node (<see cref="TestInfrastructure"/>).
    /// </summary>
    public static async Task<RabbitMqBroker> CreateAsync(CancellationToken cancellationToken = default)
    {
        var url = Environment.GetEnvironmentVariable(UrlVariable);
        if (!string.IsNullOrWhiteSpace(url))
        {
            return FromUrl(new Uri(url), Environment.GetEnvironmentVariable(ManagementUrlVariable));
        }
        if ((await TestInfrastructure.ChoiceAsync()).Source == InfrastructureSource.Containers)
        {
            // A container with its management API: each run makes its own virtual hosts and service users there.
            var (amqp, managementUrl) = await Containers.StartRabbitMqAsync(cancellationToken);
            return FromUrl(amqp, managementUrl);
        }
        return await StartPrivateNodeAsync(cancellationToken);
    }

    /// <summary>
    /// A new private node owned by the caller, whatever <c>TOEX_RABBITMQ_URL</c> says: for tests
    /// that stop and restart the broker.
    /// </summary>
    public static async Task<RabbitMqBroker> StartPrivateNodeAsync(CancellationToken cancellationToken = default)
    {
        var node = await PrivateNode.StartAsync(managementPort: null, cancellationToken);
        return new RabbitMqBroker(node.AmqpUri, node, management: null);
    }

    /// <summary>
    /// A new private node with the management plugin on a free loopback port, for counting what passes through a
    /// virtual host (<see cref="MessageStatsAsync"/>): benchmarks. The plugin costs the node some CPU.
    /// </summary>
    public static async Task<RabbitMqBroker> StartPrivateNodeWithManagementAsync(CancellationToken cancellationToken = default)
    {
        var node = await PrivateNode.StartAsync(PrivateNode.NextPort(), cancellationToken);
        var credentials = node.AmqpUri.UserInfo;
        var management = new HttpClient
        {
            BaseAddress = new Uri($"http://127.0.0.1:{node.ManagementPort!.Value.ToString(CultureInfo.InvariantCulture)}/api/"),
            Timeout = TimeSpan.FromSeconds(30),
        };
        management.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue(
            "Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes(Uri.UnescapeDataString(credentials))));
        return new RabbitMqBroker(node.AmqpUri, node, management);
    }

    /// <summary>The broker's own process (the Erlang VM of a private node), or null for an external broker.</summary>
    public int? NodeProcessId =>
        node is not null && File.Exists(Path.Combine(node.Directory, "pid"))
            && int.TryParse(File.ReadAllText(Path.Combine(node.Directory, "pid")).Trim(), CultureInfo.InvariantCulture, out var pid)
            ? pid : null;

    /// <summary>
    /// The management API's message counters of <paramref name="vhost"/> since it was made (<c>publish</c>,
    /// <c>deliver_get</c>, <c>ack</c>, <c>confirm</c>, …; a counter nothing has touched is absent). Needs the management API
    /// (<see cref="StartPrivateNodeWithManagementAsync"/>, or <c>TOEX_RABBITMQ_MANAGEMENT_URL</c>). The node refreshes
    /// them every few seconds.
    /// </summary>
    public async Task<IReadOnlyDictionary<string, long>> MessageStatsAsync(string vhost, CancellationToken cancellationToken = default)
    {
        var client = management ?? throw new NotSupportedException("Message counts need the broker's management API.");
        var info = await client.GetFromJsonAsync<System.Text.Json.Nodes.JsonObject>(
            new Uri($"vhosts/{Uri.EscapeDataString(vhost)}", UriKind.Relative), cancellationToken);
        var counts = new Dictionary<string, long>(StringComparer.Ordinal);
        if (info?["message_stats"] is System.Text.Json.Nodes.JsonObject stats)
        {
            foreach (var (name, value) in stats)
            {
                if (value is System.Text.Json.Nodes.JsonValue number && number.TryGetValue<long>(out var count))
                {
                    counts[name] = count;
                }
            }
        }
        return counts;
    }

    /// <summary>
    /// Creates a new virtual host named <c>&lt;prefix&gt;-&lt;UTC time&gt;-&lt;random&gt;</c> and grants
    /// <see cref="Username"/> everything on it. On an external broker without a management URL it
    /// returns the URL's own virtual host instead, with a warning.
    /// </summary>
    public async Task<BrokerVhost> CreateVirtualHostAsync(string prefix, CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(disposed == 1, this);
        var name = UniqueName(prefix);
        if (node is not null)
        {
            await node.RunAsync(cancellationToken, "add-vhost", name);
        }
        else if (management is not null)
        {
            var vhost = Uri.EscapeDataString(name);
            using (var created = await management.PutAsync(new Uri($"vhosts/{vhost}", UriKind.Relative), content: null, cancellationToken))
            {
                created.EnsureSuccessStatusCode();
            }

            using var permissions = JsonContent.Create(new { configure = ".*", write = ".*", read = ".*" });
            using var granted = await management.PutAsync(
                new Uri($"permissions/{vhost}/{Uri.EscapeDataString(Username)}", UriKind.Relative), permissions, cancellationToken);
            granted.EnsureSuccessStatusCode();
        }
        else
        {
            Warn($"{ManagementUrlVariable} is not set: tests share the virtual host '{urlVirtualHost}' of {UrlVariable}. "
                + "Queues left bound there by other runs will receive copies of this run's messages.");
            name = urlVirtualHost;
        }

        return VirtualHostInfo(name);
    }

    /// <summary>
    /// The URL a service connects with to <paramref name="vhost"/> as its own user of
    /// <c>deploy/rabbitmq/definitions.json</c>, holding only that file's permissions there (the user is
    /// created on first use with a password of this broker's own). On an external broker the user is named
    /// <c>SERVICE.VHOST</c> so that concurrent runs do not change each other's passwords.
    /// </summary>
    public async Task<Uri> ServiceUriAsync(BrokerVhost vhost, string service, CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(disposed == 1, this);
        var user = BrokerDefinitions.For(service);
        var name = node is not null ? user.Name : $"{user.Name}.{vhost.Name}";
        var password = servicePasswords.GetOrAdd(name, _ => Convert.ToHexString(System.Security.Cryptography.RandomNumberGenerator.GetBytes(16)));
        if (node is not null)
        {
            await node.RunAsync(cancellationToken, "add-user", name, password, vhost.Name, user.Configure, user.Write, user.Read);
        }
        else if (management is not null)
        {
            using (var created = await management.PutAsync(new Uri($"users/{Uri.EscapeDataString(name)}", UriKind.Relative),
                JsonContent.Create(new { password, tags = "" }), cancellationToken))
            {
                created.EnsureSuccessStatusCode();
            }
            using var granted = await management.PutAsync(
                new Uri($"permissions/{Uri.EscapeDataString(vhost.Name)}/{Uri.EscapeDataString(name)}", UriKind.Relative),
                JsonContent.Create(new { configure = user.Configure, write = user.Write, read = user.Read }), cancellationToken);
            granted.EnsureSuccessStatusCode();
        }
        else
        {
            Warn($"{ManagementUrlVariable} is not set: services connect as {Username}, not as their own users of {BrokerDefinitions.Path}.");
            return vhost.AmqpUri;
        }
        return new UriBuilder(vhost.AmqpUri) { UserName = Uri.EscapeDataString(name), Password = Uri.EscapeDataString(password) }.Uri;
    }

    /// <summary>
    /// Deletes a virtual host made by <see cref="CreateVirtualHostAsync"/> with its queues and
    /// exchanges. Does nothing for an external broker's own virtual host or while a private node is stopped.
    /// </summary>
    public async Task DeleteVirtualHostAsync(string name, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        if (disposed == 1)
        {
            return;
        }

        if (node is not null)
        {
            if (node.IsRunning)
            {
                await node.RunAsync(cancellationToken, "delete-vhost", name);
            }
        }
        else if (management is not null && name != urlVirtualHost)
        {
            using var response = await management.DeleteAsync(
                new Uri($"vhosts/{Uri.EscapeDataString(name)}", UriKind.Relative), cancellationToken);
            if (response.StatusCode != System.Net.HttpStatusCode.NotFound)
            {
                response.EnsureSuccessStatusCode();
            }
        }
    }

    /// <summary>Stops the private node (clients see connection refused) until <see cref="StartAsync"/>.</summary>
    /// <remarks>On the shared broker this affects every test of the process running at the time.</remarks>
    public Task StopAsync(CancellationToken cancellationToken = default) =>
        RequireNode().StopAsync(cancellationToken);

    /// <summary>Restarts a node stopped by <see cref="StopAsync"/>: same port, credentials and virtual hosts.</summary>
    public Task StartAsync(CancellationToken cancellationToken = default) =>
        RequireNode().RestartAsync(cancellationToken);

    /// <summary>
    /// Kills the private node's Erlang VM with SIGKILL (no clean shutdown: what a crash or an OOM kill does) until
    /// <see cref="StartAsync"/>; its private epmd stays.
    /// </summary>
    public Task KillAsync(CancellationToken cancellationToken = default) => RequireNode().KillAsync(cancellationToken);

    /// <summary>Runs <c>rabbitmqctl</c> against the private node (e.g. <c>set_disk_free_limit 1TB</c>); returns its output.</summary>
    public Task<string> ControlAsync(CancellationToken cancellationToken, params string[] arguments) =>
        RequireNode().ControlAsync(arguments, cancellationToken);

    /// <summary>Stops and deletes a private node; does nothing for the shared broker or an external one.</summary>
    public async ValueTask DisposeAsync()
    {
        if (isShared || Interlocked.Exchange(ref disposed, 1) == 1)
        {
            return;
        }

        if (stopOnProcessExit is not null)
        {
            AppDomain.CurrentDomain.ProcessExit -= stopOnProcessExit;
        }

        management?.Dispose();
        if (node is not null)
        {
            await node.StopAndDeleteAsync();
        }
    }

    private static RabbitMqBroker FromUrl(Uri amqpUri, string? managementUrl)
    {
        HttpClient? management = null;
        if (!string.IsNullOrWhiteSpace(managementUrl))
        {
            var managementUri = new Uri(managementUrl);
            var basePath = managementUri.AbsolutePath.TrimEnd('/');
            basePath = basePath.EndsWith("/api", StringComparison.Ordinal) ? basePath : basePath + "/api";
            var userInfo = managementUri.UserInfo.Length > 0 ? managementUri.UserInfo : amqpUri.UserInfo;
            management = new HttpClient
            {
                BaseAddress = new UriBuilder(managementUri) { UserName = "", Password = "", Path = basePath + "/" }.Uri,
                Timeout = TimeSpan.FromSeconds(30),
            };
            management.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue(
                "Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes(Uri.UnescapeDataString(userInfo))));
        }

        return new RabbitMqBroker(amqpUri, node: null, management);
    }

    private BrokerVhost VirtualHostInfo(string name)
    {
        var host = Host.Contains(':', StringComparison.Ordinal) && !Host.StartsWith('[') ? $"[{Host}]" : Host;
        var path = name == DefaultVirtualHost ? "" : Uri.EscapeDataString(name);
        var uri = new Uri(
            $"{scheme}://{Uri.EscapeDataString(Username)}:{Uri.EscapeDataString(Password)}@{host}:{Port.ToString(CultureInfo.InvariantCulture)}/{path}");
        return new BrokerVhost(name, uri, Host, Port, Username, Password);
    }

    /// <summary>A new virtual host's name: <c>&lt;prefix&gt;-&lt;UTC time&gt;-&lt;random&gt;</c>.</summary>
    internal static string UniqueName(string prefix)
    {
        var clean = new string([.. (prefix ?? "").ToLowerInvariant().Select(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '-' ? c : '-')])
            .Trim('-', '.');
        clean = clean.Length == 0 ? "test" : clean[..Math.Min(clean.Length, 60)];
        var time = TimeProvider.System.GetUtcNow().ToString("yyyyMMdd-HHmmss", CultureInfo.InvariantCulture);
        return $"{clean}-{time}-{Guid.NewGuid().ToString("N")[..8]}";
    }

    /// <summary>A free loopback port for a private node (off the range rabbitmqctl takes its own distribution port from).</summary>
    internal static int NextNodePort() => PrivateNode.NextPort();

    private PrivateNode RequireNode()
    {
        ObjectDisposedException.ThrowIf(disposed == 1, this);
        return node ?? throw new NotSupportedException(
            $"The broker comes from {UrlVariable} and cannot be stopped by a test; use RabbitMqBroker.StartPrivateNodeAsync().");
    }

    private void Warn(string message)
    {
        lock (warnings)
        {
            if (warnings.Contains(message))
            {
                return;
            }

            warnings.Add(message);
        }

        Console.Error.WriteLine($"[TOEX.Sharing.Testing] warning: {message}");
    }

    /// <summary>A node run by private-node.sh in its own temporary folder.</summary>
    private sealed class PrivateNode
    {
        // rabbitmqctl takes its own distribution port from this range: keep the node off it.
        private const int CliDistributionPortMin = 35672;
        private const int CliDistributionPortMax = 35682;
        private const int PortInUseExitCode = 75;
        private const int NotInstalledExitCode = 69;

        private int running;

        private PrivateNode(string directory) => Directory = directory;

        public string Directory { get; }

        public Uri AmqpUri { get; private set; } = null!;

        public int? ManagementPort { get; private set; }

        public TimeSpan StartupTime { get; private set; }

        public bool IsRunning => Volatile.Read(ref running) == 1;

        public static async Task<PrivateNode> StartAsync(int? managementPort, CancellationToken cancellationToken)
        {
            await RemoveAbandonedFoldersAsync();
            var script = RepoPaths.PrivateNodeScript;
            if (!File.Exists(script))
            {
                throw new FileNotFoundException($"The private-node script is missing: {script}.", script);
            }

            for (var attempt = 1; ; attempt++)
            {
                var directory = Path.Combine(
                    Path.GetTempPath(),
                    $"toex-test-rmq-{Environment.ProcessId}-{Interlocked.Increment(ref nodeCount)}");
                var node = new PrivateNode(directory) { ManagementPort = managementPort };
                var ports = new[] { NextPort(), NextPort(), NextPort() };
                var started = TimeProvider.System.GetTimestamp();
                var result = await node.RunScriptAsync(
                    cancellationToken,
                    "start",
                    "--port", Format(ports[0]),
                    "--dist-port", Format(ports[1]),
                    "--epmd-port", Format(ports[2]),
                    "--management-port", Format(managementPort ?? 0),
                    "--owner-pid", Format(Environment.ProcessId),
                    "--remove-dir");
                if (result.ExitCode == 0)
                {
                    node.StartupTime = TimeProvider.System.GetElapsedTime(started);
                    node.AmqpUri = new Uri(LastLine(result.StandardOutput));
                    node.running = 1;
                    return node;
                }

                TryDelete(directory);
                if (result.ExitCode == NotInstalledExitCode)
                {
                    throw new InvalidOperationException(
                        "RabbitMQ is needed by these tests and rabbitmq-server is not installed. "
                        + "On Debian/Ubuntu: sudo apt-get install rabbitmq-server (tests start private nodes; the system service is not used). "
                        + $"Or point the tests at a broker: {UrlVariable}=amqp://user:pass@host:5672/ "
                        + $"and {ManagementUrlVariable}=http://host:15672/ so each run gets its own virtual host.{Environment.NewLine}"
                        + result.StandardError.Trim());
                }

                if (result.ExitCode != PortInUseExitCode || attempt == 3)
                {
                    throw new InvalidOperationException(
                        $"The private RabbitMQ node did not start (exit code {result.ExitCode}).{Environment.NewLine}{result.StandardError.Trim()}");
                }
            }
        }

        public Task RunAsync(CancellationToken cancellationToken, params string[] arguments) =>
            RunCheckedAsync(cancellationToken, arguments);

        public async Task StopAsync(CancellationToken cancellationToken)
        {
            await RunCheckedAsync(cancellationToken, "stop");
            Volatile.Write(ref running, 0);
        }

        public async Task RestartAsync(CancellationToken cancellationToken)
        {
            await RunCheckedAsync(cancellationToken, "start", "--owner-pid", Format(Environment.ProcessId), "--remove-dir");
            Volatile.Write(ref running, 1);
        }

        public async Task KillAsync(CancellationToken cancellationToken)
        {
            var pidFile = Path.Combine(Directory, "pid");
            if (File.Exists(pidFile) && int.TryParse((await File.ReadAllTextAsync(pidFile, cancellationToken)).Trim(), CultureInfo.InvariantCulture, out var pid))
            {
                try
                {
                    using var process = System.Diagnostics.Process.GetProcessById(pid);
                    process.Kill();
                    await process.WaitForExitAsync(cancellationToken);
                }
                catch (ArgumentException)
                {
                    // Already gone.
                }
            }
            Volatile.Write(ref running, 0);
        }

        public async Task<string> ControlAsync(string[] arguments, CancellationToken cancellationToken)
        {
            var result = await ProcessRunner.RunAsync("bash", [RepoPaths.PrivateNodeScript, "ctl", "--dir", Directory, "--", .. arguments],
                ScriptTimeout, cancellationToken);
            if (result.ExitCode != 0)
            {
                throw new InvalidOperationException(
                    $"rabbitmqctl {string.Join(' ', arguments)} failed with exit code {result.ExitCode}: {result.StandardError.Trim()}");
            }
            return result.StandardOutput;
        }

        public async Task StopAndDeleteAsync()
        {
            try
            {
                await RunScriptAsync(CancellationToken.None, "stop", "--remove-dir");
            }
            finally
            {
                Volatile.Write(ref running, 0);
                TryDelete(Directory);
            }
        }

        /// <summary>For ProcessExit: the test host may be killed meanwhile, in which case the script's watcher finishes the job.</summary>
        public void StopAndDelete() => StopAndDeleteAsync().GetAwaiter().GetResult();

        private async Task RunCheckedAsync(CancellationToken cancellationToken, params string[] arguments)
        {
            var result = await RunScriptAsync(cancellationToken, arguments);
            if (result.ExitCode != 0)
            {
                throw new InvalidOperationException(
                    $"private-node.sh {string.Join(' ', arguments)} failed with exit code {result.ExitCode}: {result.StandardError.Trim()}");
            }
        }

        private Task<ProcessResult> RunScriptAsync(CancellationToken cancellationToken, params string[] arguments) =>
            ProcessRunner.RunAsync(
                "bash",
                [RepoPaths.PrivateNodeScript, .. arguments, "--dir", Directory],
                ScriptTimeout,
                cancellationToken);

        public static int NextPort() =>
            FreePort.Next(p => p is < CliDistributionPortMin or > CliDistributionPortMax);

        private static string Format(int value) => value.ToString(CultureInfo.InvariantCulture);

        private static string LastLine(string text) =>
            text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)[^1];

        /// <summary>
        /// Folders of test processes that no longer exist. The script's watcher normally stopped their
        /// nodes and removed them; this catches what it could not (a machine reboot, a killed watcher).
        /// </summary>
        private static async Task RemoveAbandonedFoldersAsync()
        {
            foreach (var folder in System.IO.Directory.EnumerateDirectories(Path.GetTempPath(), "toex-test-rmq-*"))
            {
                var parts = Path.GetFileName(folder).Split('-');
                if (parts.Length < 4 || !int.TryParse(parts[3], CultureInfo.InvariantCulture, out var pid) || IsAlive(pid))
                {
                    continue;
                }

                if (File.Exists(Path.Combine(folder, "pid")))
                {
                    await new PrivateNode(folder).RunScriptAsync(CancellationToken.None, "stop");
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
            catch (ArgumentException)
            {
                return false;
            }
            catch (InvalidOperationException)
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
            catch (IOException)
            {
                // Best effort: a file still open by a dying node; the next run removes it.
            }
            catch (UnauthorizedAccessException)
            {
                // Another user's folder.
            }
        }
    }
}
