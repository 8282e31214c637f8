namespace TOEX.Sharing.Policy;

/// <summary>Finds the repository's <c>policies/</c> folder.</summary>
public static class PolicyPaths
{
    public const string SolutionFile = "TOEX.Sharing.sln";

    /// <summary>
    /// The <c>policies/</c> folder beside <c>TOEX.Sharing.sln</c>, found by walking up from
    /// <see cref="AppContext.BaseDirectory"/>, then from the current directory.
    /// </summary>
    /// <exception cref="DirectoryNotFoundException">No such folder above either.</exception>
    public static string FindDefault()
    {
        foreach (var start in (string[])[AppContext.BaseDirectory, Directory.GetCurrentDirectory()])
        {
            for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
            {
                var policies = Path.Combine(dir.FullName, "policies");
                if (File.Exists(Path.Combine(dir.FullName, SolutionFile)) && Directory.Exists(policies))
                {
                    return policies;
                }
            }
        }

        throw new DirectoryNotFoundException(
            $"No policies/ folder beside {SolutionFile} above {AppContext.BaseDirectory} or the current directory; pass --policies DIR.");
    }
}
