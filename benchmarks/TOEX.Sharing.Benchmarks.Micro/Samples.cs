using System.Text;
using System.Text.Json.Nodes;
using TOEX.Sharing.Contracts;
using TOEX.Sharing.Policy;

namespace TOEX.Sharing.Benchmarks.Micro;

/// <summary>The inputs the benchmarks share: the reference region's policy set and its sample packages.</summary>
public static class Samples
{
    public static readonly DateTimeOffset At = DateTimeOffset.Parse("2026-11-25T12:00:00Z", System.Globalization.CultureInfo.InvariantCulture);

    public static string Root { get; } = FindRoot();

    public static PolicySet Policies() => PolicySet.Load(Path.Combine(Root, "policies"));

    /// <summary>A sample of <c>deploy/samples</c>, its narrative grown so the whole package is <paramref name="size"/> bytes.</summary>
    public static string Package(string sample, int size)
    {
        var package = JsonNode.Parse(File.ReadAllText(Path.Combine(Root, "deploy", "samples", sample)))!.AsObject();
        package["body"] = "";
        var bare = Encoding.UTF8.GetByteCount(package.ToJsonString());
        package["body"] = new string('x', Math.Max(0, size - bare));
        return package.ToJsonString();
    }

    public static IntelligencePackage Parse(string json) => ToexJson.Deserialize<IntelligencePackage>(json);

    private static string FindRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "TOEX.Sharing.sln")))
            {
                return directory.FullName;
            }
        }
        throw new InvalidOperationException("Run the benchmarks from a build inside the repository (no TOEX.Sharing.sln above it).");
    }
}
