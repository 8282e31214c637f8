using TOEX.Sharing.Testing;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace TOEX.Sharing.Deploy.Tests;

/// <summary>
/// A single host: the compose file (three services hardened, RabbitMQ with the project's definitions, PostgreSQL, secrets
/// only from files kept out of the repository) and the systemd units (systemd's hardening options; checked by
/// <c>systemd-analyze verify</c>, which runs here without systemd as PID 1, and by their parsed options wherever).
/// </summary>
public sealed class SingleHostTests
{
    private static readonly string Deploy = Path.Combine(RepoPaths.Root, "deploy");
    private static readonly string[] Services = ["gateway", "policy-decision", "audit"];

    private static YamlMappingNode Compose()
    {
        using var reader = new StringReader(File.ReadAllText(Path.Combine(Deploy, "compose", "compose.yaml")));
        var stream = new YamlStream();
        stream.Load(new MergingParser(new Parser(reader)));
        return (YamlMappingNode)stream.Documents.Single().RootNode;
    }

    private static YamlNode? At(YamlNode node, params string[] path)
    {
        foreach (var key in path)
        {
            if (node is not YamlMappingNode mapping || !mapping.Children.TryGetValue(new YamlScalarNode(key), out node!))
            {
                return null;
            }
        }
        return node;
    }

    private static List<string> Strings(YamlNode? node) =>
        node is YamlSequenceNode sequence ? [.. sequence.Children.Select(c => ((YamlScalarNode)c).Value!)] : [];

    [Fact]
    public void The_compose_file_runs_the_three_services_hardened_on_the_broker_with_its_definitions_and_PostgreSQL()
    {
        var compose = Compose();
        var services = (YamlMappingNode)At(compose, "services")!;
        var names = services.Children.Keys.Select(k => ((YamlScalarNode)k).Value!).ToList();
        Assert.Equal(new[] { "rabbitmq", "rabbitmq-passwords", "postgres", "policy-decision", "audit", "gateway" }, names);

        var broker = At(services, "rabbitmq")!;
        Assert.Contains(Strings(At(broker, "volumes")), v => v.StartsWith("../rabbitmq/definitions.json:", StringComparison.Ordinal));
        Assert.Contains("load_definitions = /etc/rabbitmq/definitions.json", File.ReadAllText(Path.Combine(Deploy, "compose", "rabbitmq.conf")), StringComparison.Ordinal);

        foreach (var name in Services)
        {
            var service = At(services, name)!;
            Assert.Equal("true", ((YamlScalarNode)At(service, "read_only")!).Value);
            Assert.NotEqual("0", ((YamlScalarNode)At(service, "user")!).Value!.Split(':')[0]);
            Assert.Equal(["ALL"], Strings(At(service, "cap_drop")));
            Assert.Contains("no-new-privileges:true", Strings(At(service, "security_opt")));
            Assert.Equal($"services/TOEX.Sharing.{string.Concat(name.Split('-').Select(w => char.ToUpperInvariant(w[0]) + w[1..]))}/Dockerfile",
                ((YamlScalarNode)At(service, "build", "dockerfile")!).Value);
            // Secrets come from a file outside the repository, never written in the compose file.
            Assert.Equal([$"secrets/{name}.env"], Strings(At(service, "env_file")));
            foreach (var (key, value) in ((YamlMappingNode)At(service, "environment")!).Children)
            {
                Assert.DoesNotMatch("(?i)password|url|connectionstring", ((YamlScalarNode)key).Value!);
                Assert.DoesNotContain("CHANGE-ME", ((YamlScalarNode)value).Value!, StringComparison.Ordinal);
            }
            foreach (var mount in Strings(At(service, "volumes")))
            {
                Assert.True(mount.EndsWith(":ro", StringComparison.Ordinal), $"{name}: {mount} is mounted read-write");
            }
            Assert.True(File.Exists(Path.Combine(Deploy, "compose", "secrets.example", $"{name}.env")), $"secrets.example/{name}.env");
        }
        // Only the gateway is published beyond loopback.
        Assert.Equal(["8080:8080"], Strings(At(services, "gateway", "ports")));
        Assert.All(Strings(At(services, "audit", "ports")), p => Assert.StartsWith("127.0.0.1:", p, StringComparison.Ordinal));
        Assert.Null(At(services, "policy-decision", "ports"));
        Assert.Null(At(services, "rabbitmq", "ports"));
        Assert.Null(At(services, "postgres", "ports"));
        Assert.Equal("secrets/\nkeys/\n", File.ReadAllText(Path.Combine(Deploy, "compose", ".gitignore")));
    }

    /// <summary>The hardening each unit must carry, with its value.</summary>
    private static readonly Dictionary<string, string> Hardening = new()
    {
        ["NoNewPrivileges"] = "yes",
        ["CapabilityBoundingSet"] = "",
        ["AmbientCapabilities"] = "",
        ["ProtectSystem"] = "strict",
        ["ProtectHome"] = "yes",
        ["PrivateTmp"] = "yes",
        ["PrivateDevices"] = "yes",
        ["ProtectKernelTunables"] = "yes",
        ["ProtectKernelModules"] = "yes",
        ["ProtectControlGroups"] = "yes",
        ["RestrictNamespaces"] = "yes",
        ["RestrictSUIDSGID"] = "yes",
        ["LockPersonality"] = "yes",
        ["SystemCallArchitectures"] = "native",
        ["RestrictAddressFamilies"] = "AF_INET AF_INET6 AF_UNIX",
        ["UMask"] = "0077",
    };

    [Theory]
    [InlineData("gateway")]
    [InlineData("policy-decision")]
    [InlineData("audit")]
    public async Task The_systemd_unit_is_hardened_and_verifies(string service)
    {
        var unit = Path.Combine(Deploy, "systemd", $"toex-{service}.service");
        var lines = File.ReadAllLines(unit).Where(l => l.Length > 0 && !l.StartsWith('#') && !l.StartsWith('[')).ToList();
        var options = lines.Select(l => l.Split('=', 2)).GroupBy(p => p[0]).ToDictionary(g => g.Key, g => g.Select(p => p[1]).ToList());
        foreach (var (key, value) in Hardening)
        {
            Assert.True(options.TryGetValue(key, out var values) && values.Contains(value), $"toex-{service}.service: {key}={value}");
        }
        Assert.DoesNotContain("MemoryDenyWriteExecute", options.Keys); // the .NET JIT needs it off
        Assert.StartsWith("toex-", options["User"].Single(), StringComparison.Ordinal);
        Assert.Contains(options["ExecStart"].Single(), new[] { $"/usr/bin/dotnet /opt/toex/{service}/TOEX.Sharing.{string.Concat(service.Split('-').Select(w => char.ToUpperInvariant(w[0]) + w[1..]))}.dll" });
        // Secrets in an EnvironmentFile (mode 0600), never in the unit.
        Assert.Equal([$"/etc/toex/{service}.env"], options["EnvironmentFile"]);
        Assert.All(options["Environment"], e => Assert.DoesNotMatch("(?i)password|RabbitMq__Url|ConnectionString", e));

        // systemd's own check, where systemd-analyze runs (it does here, without systemd as PID 1): any complaint fails.
        if (Tool.Find("systemd-analyze") is { } analyze)
        {
            var copy = Path.Combine(Path.GetTempPath(), $"toex-{service}-{Guid.NewGuid():N}.service");
            var dotnet = Tool.Find("dotnet") ?? "/usr/bin/dotnet";
            // Verify checks that ExecStart's program exists: point it at this machine's dotnet if it lives elsewhere.
            await File.WriteAllTextAsync(copy, File.ReadAllText(unit).Replace("/usr/bin/dotnet", File.Exists("/usr/bin/dotnet") ? "/usr/bin/dotnet" : dotnet, StringComparison.Ordinal));
            try
            {
                var verified = await Tool.RunAsync(analyze, ["verify", "--man=no", copy]);
                Assert.True(verified.ExitCode == 0 && verified.Error.Trim().Length == 0 && verified.Output.Trim().Length == 0,
                    $"systemd-analyze verify toex-{service}.service: {verified}");
            }
            finally
            {
                File.Delete(copy);
            }
        }
    }
}
