using System.Text.Json;
using System.Text.RegularExpressions;
using TOEX.Sharing.Testing;

namespace TOEX.Sharing.Deploy.Tests;

/// <summary>
/// Each service's Dockerfile, checked without an engine (none can pull a base image here): it is multi-stage, runs as
/// a non-root user, has a HEALTHCHECK, bakes in no secret; every source its build stage copies exists; its build
/// stage's <c>dotnet publish</c> commands are run as written (Release, into a temporary folder standing for the
/// stage's output), and every path the final stage copies, runs (ENTRYPOINT) or probes (HEALTHCHECK) is in that output.
/// </summary>
public sealed partial class DockerfileTests
{
    public static TheoryData<string> Services() => ["TOEX.Sharing.Gateway", "TOEX.Sharing.PolicyDecision", "TOEX.Sharing.Audit"];

    /// <summary>A Dockerfile's instructions (continuation lines joined, comments dropped), each with its stage.</summary>
    private sealed record Instruction(int Stage, string Keyword, string Arguments);

    private static List<Instruction> Parse(string path)
    {
        var instructions = new List<Instruction>();
        var stage = -1;
        var text = Regex.Replace(File.ReadAllText(path), @"\\\r?\n", " ");
        foreach (var raw in text.Split('\n'))
        {
            var line = raw.Trim();
            if (line.Length == 0 || line.StartsWith('#'))
            {
                continue;
            }
            var space = line.IndexOf(' ', StringComparison.Ordinal);
            var keyword = (space < 0 ? line : line[..space]).ToUpperInvariant();
            stage += keyword == "FROM" ? 1 : 0;
            instructions.Add(new Instruction(stage, keyword, space < 0 ? "" : line[(space + 1)..].Trim()));
        }
        return instructions;
    }

    /// <summary>The words of an exec-form (JSON array) instruction, after its options.</summary>
    private static string[] ExecForm(string arguments)
    {
        var json = arguments[arguments.IndexOf('[', StringComparison.Ordinal)..];
        return JsonSerializer.Deserialize<string[]>(json)!;
    }

    [Theory]
    [MemberData(nameof(Services))]
    public async Task The_Dockerfile_builds_what_it_runs_as_a_non_root_user_with_a_health_check_and_no_secret(string service)
    {
        var dockerfile = Path.Combine(RepoPaths.Root, "services", service, "Dockerfile");
        var instructions = Parse(dockerfile);
        var final = instructions.Max(i => i.Stage);
        Assert.True(final >= 1, "multi-stage: a build stage and a runtime stage");
        var build = instructions.Single(i => i.Keyword == "FROM" && i.Stage == 0).Arguments.Split(' ')[^1];

        // Non-root, a health check, nothing secret in the image's environment or build arguments.
        var user = instructions.Last(i => i.Keyword == "USER" && i.Stage == final).Arguments.Split(':')[0];
        Assert.True(int.TryParse(user, out var uid) && uid > 0, $"USER {user}: a numeric non-root user (Kubernetes' runAsNonRoot checks it)");
        var healthCheck = Assert.Single(instructions, i => i.Keyword == "HEALTHCHECK" && i.Stage == final);
        foreach (var setting in instructions.Where(i => i.Keyword is "ENV" or "ARG"))
        {
            Assert.DoesNotMatch(SecretName(), setting.Arguments);
        }

        // The build stage: what it copies exists; what it publishes is published here, as written, into stand-in folders.
        {
            foreach (var copy in instructions.Where(i => i.Keyword == "COPY" && i.Stage == 0))
            {
                var words = copy.Arguments.Split(' ', StringSplitOptions.RemoveEmptyEntries).Where(w => !w.StartsWith("--", StringComparison.Ordinal)).ToList();
                foreach (var source in words[..^1])
                {
                    Assert.True(File.Exists(Path.Combine(RepoPaths.Root, source)) || Directory.Exists(Path.Combine(RepoPaths.Root, source)),
                        $"COPY {source}: not in the repository");
                }
            }
            var outputs = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var run in instructions.Where(i => i.Keyword == "RUN" && i.Stage == 0))
            {
                var words = run.Arguments.Split(' ', StringSplitOptions.RemoveEmptyEntries);
                Assert.Equal(["dotnet", "publish"], words[..2]);
                outputs[words[Array.IndexOf(words, "-o") + 1]] = await PublishAsync(run.Arguments);
            }

            // The final stage's files: each COPY --from=<build> SOURCE DESTINATION laid out from the published folders.
            var image = new HashSet<string>(StringComparer.Ordinal);
            foreach (var copy in instructions.Where(i => i.Keyword == "COPY" && i.Stage == final))
            {
                Assert.Contains($"--from={build}", copy.Arguments, StringComparison.Ordinal);
                var words = copy.Arguments.Split(' ', StringSplitOptions.RemoveEmptyEntries).Where(w => !w.StartsWith("--", StringComparison.Ordinal)).ToList();
                var (source, destination) = (words[0], words[1]);
                var folder = outputs.FirstOrDefault(o => source.TrimEnd('/') == o.Key).Value;
                Assert.True(folder is not null && Directory.Exists(folder), $"COPY --from={build} {source}: the build stage makes no such folder");
                foreach (var file in Directory.EnumerateFiles(folder, "*", SearchOption.AllDirectories))
                {
                    image.Add("/" + Path.Combine(destination.Trim('/'), Path.GetRelativePath(folder, file)).Replace('\\', '/'));
                }
            }
            var entrypoint = ExecForm(instructions.Single(i => i.Keyword == "ENTRYPOINT" && i.Stage == final).Arguments);
            Assert.Equal("dotnet", entrypoint[0]);
            Assert.Contains(entrypoint[1], image);
            Assert.Equal($"/app/{service}.dll", entrypoint[1]);
            var probe = ExecForm(healthCheck.Arguments);
            Assert.Equal("dotnet", probe[0]);
            Assert.Contains(probe[1], image);
            Assert.Contains($"/app/{service}.runtimeconfig.json", image);
            // Nothing of local state or keys went in.
            Assert.DoesNotContain(image, path => path.Contains("/.local/", StringComparison.Ordinal) || path.EndsWith(".jwk", StringComparison.Ordinal));
        }
    }

    private static readonly string Scratch = Path.Combine(Path.GetTempPath(), $"toex-image-{Environment.ProcessId}");

    /// <summary>Every image's identical publish (the health probe) runs once per test run: one publish per project.</summary>
    private static readonly System.Collections.Concurrent.ConcurrentDictionary<string, Lazy<Task<string>>> Published = new(StringComparer.Ordinal);

    /// <summary>Runs a build stage's <c>dotnet publish … -o OUT</c> as written but into a folder of its own; returns that folder.</summary>
    private static Task<string> PublishAsync(string command) => Published.GetOrAdd(command, _ => new(async () =>
    {
        if (Published.Count == 1)
        {
            AppDomain.CurrentDomain.ProcessExit += (_, _) => Directory.Delete(Scratch, recursive: true);
        }
        var words = command.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        var output = words[Array.IndexOf(words, "-o") + 1];
        var folder = Path.Combine(Scratch, Guid.NewGuid().ToString("N")[..8], output.TrimStart('/'));
        var published = await Tool.RunAsync("dotnet", [.. words[1..].Select(w => w == output ? folder : w), "--nologo"],
            RepoPaths.Root, timeout: TimeSpan.FromMinutes(10));
        Assert.True(published.ExitCode == 0, $"{command}: {published}");
        return folder;
    })).Value;

    [GeneratedRegex("(?i)password|secret|connectionstring|rabbitmq__url|token|\\.key\\b")]
    private static partial Regex SecretName();
}
