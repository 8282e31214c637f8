namespace TOEX.Sharing.Testing;

/// <summary>Well-known folders of the repository, found by walking up from the test assembly.</summary>
public static class RepoPaths
{
    public const string SolutionFileName = "TOEX.Sharing.sln";

    /// <summary>Overrides the search, for tests run from outside the repository's build folders.</summary>
    public const string RootVariable = "TOEX_REPO_ROOT";

    private static readonly Lazy<string> RootPath = new(FindRoot);

    /// <summary>The folder holding <c>TOEX.Sharing.sln</c> (or <c>TOEX_REPO_ROOT</c> when set).</summary>
    public static string Root => RootPath.Value;

    /// <summary><c>&lt;root&gt;/policies</c>: the policy set as data.</summary>
    public static string Policies => Path.Combine(Root, "policies");

    /// <summary><c>&lt;root&gt;/../shared</c>: material shared beside the repository (test vectors, design).</summary>
    public static string Shared => Path.GetFullPath(Path.Combine(Root, "..", "shared"));

    /// <summary><c>&lt;root&gt;/deploy/rabbitmq/private-node.sh</c>.</summary>
    public static string PrivateNodeScript => Path.Combine(Root, "deploy", "rabbitmq", "private-node.sh");

    /// <summary><c>&lt;root&gt;/deploy/rabbitmq/private-cluster.sh</c>.</summary>
    public static string PrivateClusterScript => Path.Combine(Root, "deploy", "rabbitmq", "private-cluster.sh");

    private static string FindRoot()
    {
        if (Environment.GetEnvironmentVariable(RootVariable) is { Length: > 0 } overridden)
        {
            return File.Exists(Path.Combine(overridden, SolutionFileName))
                ? Path.GetFullPath(overridden)
                : throw new InvalidOperationException($"{RootVariable}={overridden} holds no {SolutionFileName}.");
        }

        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, SolutionFileName)))
            {
                return directory.FullName;
            }
        }

        throw new InvalidOperationException(
            $"No {SolutionFileName} in {AppContext.BaseDirectory} or any folder above it: run the tests from a build inside the repository or set {RootVariable}.");
    }
}
