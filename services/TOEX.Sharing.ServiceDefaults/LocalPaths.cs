namespace TOEX.Sharing.ServiceDefaults;

/// <summary>
/// Defaults for local runs: state lives in the repository's git-ignored <c>.local/</c> folder (keys,
/// databases). Deployed services set every path explicitly.
/// </summary>
public static class LocalPaths
{
    public static string Root()
    {
        foreach (var start in new[] { Directory.GetCurrentDirectory(), AppContext.BaseDirectory })
        {
            for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
            {
                if (File.Exists(Path.Combine(dir.FullName, "TOEX.Sharing.sln")))
                {
                    return Path.Combine(dir.FullName, ".local");
                }
            }
        }
        return Path.Combine(Directory.GetCurrentDirectory(), ".local");
    }

    public static string KeyRing(string name) => Path.Combine(Root(), "keys", name);

    /// <summary>The development key of the subjects' blind indexes, shared by the gateway and the audit service.</summary>
    public static string BlindIndexKey() => Path.Combine(Root(), "keys", "blind-index.key");

    public static string Database(string name)
    {
        var dir = Path.Combine(Root(), "data");
        Directory.CreateDirectory(dir);
        return Path.Combine(dir, name + ".db");
    }
}
