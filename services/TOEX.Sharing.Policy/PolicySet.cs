using System.Security.Cryptography;
using System.Text;

namespace TOEX.Sharing.Policy;

/// <summary>
/// One versioned, validated policy set: the partners and agreements of every <c>*.yaml</c> file under a
/// policies directory (its <c>tests/</c> folder excepted). <see cref="Version"/> identifies the exact files.
/// </summary>
public sealed class PolicySet
{
    /// <summary>The folder of policy test cases, beside the policies; not part of the policy set.</summary>
    public const string TestsFolder = "tests";

    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    private readonly Dictionary<string, Dictionary<string, Agreement[]>> byParties;

    private PolicySet(string version, IReadOnlyDictionary<string, Partner> partners, IReadOnlyDictionary<string, Agreement> agreements)
    {
        Version = version;
        Partners = partners;
        Agreements = agreements;
        byParties = IndexByParties(agreements.Values);
    }

    /// <summary><c>sha256:</c> and the lowercase hex SHA-256 over the policy files' relative paths and contents.</summary>
    public string Version { get; }

    public IReadOnlyDictionary<string, Partner> Partners { get; }

    public IReadOnlyDictionary<string, Agreement> Agreements { get; }

    /// <summary>
    /// Loads and validates the policy set in <paramref name="directory"/>.
    /// </summary>
    /// <exception cref="DirectoryNotFoundException">The directory does not exist.</exception>
    /// <exception cref="PolicyValidationException">Any problem at all; it lists every one as <c>file:line: message</c>.</exception>
    public static PolicySet Load(string directory)
    {
        var root = Path.GetFullPath(directory);
        if (!Directory.Exists(root))
        {
            throw new DirectoryNotFoundException($"The policies directory '{directory}' does not exist.");
        }

        var files = ReadFiles(root);
        var problems = new List<PolicyProblem>();
        if (files.Count == 0)
        {
            problems.Add(new PolicyProblem(".", 0, "no policy files (*.yaml) found"));
        }

        var loader = new PolicyLoader(problems);
        foreach (var (path, bytes) in files)
        {
            if (TryDecode(bytes, out var text))
            {
                loader.LoadFile(path, text);
            }
            else
            {
                problems.Add(new PolicyProblem(path, 1, "the file is not valid UTF-8"));
            }
        }

        loader.CheckReferences();
        if (problems.Count > 0)
        {
            throw new PolicyValidationException(Sorted(problems));
        }

        return new PolicySet(ComputeVersion(files), loader.Partners, loader.Agreements);
    }

    /// <summary>The agreements naming <paramref name="originator"/> as an originator and <paramref name="recipient"/> as a recipient, by id (ordinal).</summary>
    public IReadOnlyList<Agreement> AgreementsBetween(string originator, string recipient) =>
        byParties.TryGetValue(originator, out var byRecipient) && byRecipient.TryGetValue(recipient, out var found) ? found : [];

    internal static bool TryDecode(byte[] bytes, out string text)
    {
        try
        {
            var span = bytes.AsSpan();
            if (span.StartsWith((ReadOnlySpan<byte>)[0xEF, 0xBB, 0xBF]))
            {
                span = span[3..];
            }

            text = StrictUtf8.GetString(span);
            return true;
        }
        catch (DecoderFallbackException)
        {
            text = "";
            return false;
        }
    }

    internal static List<PolicyProblem> Sorted(List<PolicyProblem> problems)
    {
        // Stable: problems on the same line keep the order they were found in.
        return [.. problems.OrderBy(p => p.File, StringComparer.Ordinal).ThenBy(p => p.Line)];
    }

    /// <summary>
    /// The policy files, relative paths with '/' and sorted ordinally, with their bytes. Hidden files and folders (a
    /// name starting with '.') are not policy: a Kubernetes ConfigMap volume keeps each file twice more under
    /// <c>..data/</c> and <c>..&lt;timestamp&gt;/</c> beside the links it shows.
    /// </summary>
    private static List<(string Path, byte[] Bytes)> ReadFiles(string root)
    {
        var files = new List<(string Path, byte[] Bytes)>();
        foreach (var full in Directory.EnumerateFiles(root, "*", SearchOption.AllDirectories))
        {
            var relative = Path.GetRelativePath(root, full).Replace('\\', '/');
            var isYaml = relative.EndsWith(".yaml", StringComparison.OrdinalIgnoreCase) || relative.EndsWith(".yml", StringComparison.OrdinalIgnoreCase);
            var hidden = relative.Split('/').Any(segment => segment.StartsWith('.'));
            if (isYaml && !hidden && !relative.StartsWith(TestsFolder + "/", StringComparison.Ordinal))
            {
                files.Add((relative, File.ReadAllBytes(full)));
            }
        }

        files.Sort((a, b) => string.CompareOrdinal(a.Path, b.Path));
        return files;
    }

    /// <summary>SHA-256 over, per file in order: UTF-8 path, NUL, content length (decimal), NUL, content.</summary>
    private static string ComputeVersion(List<(string Path, byte[] Bytes)> files)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        foreach (var (path, bytes) in files)
        {
            hash.AppendData(Encoding.UTF8.GetBytes($"{path}\0{bytes.Length}\0"));
            hash.AppendData(bytes);
        }

        return "sha256:" + Convert.ToHexStringLower(hash.GetHashAndReset());
    }

    private static Dictionary<string, Dictionary<string, Agreement[]>> IndexByParties(IEnumerable<Agreement> agreements)
    {
        var lists = new Dictionary<string, Dictionary<string, List<Agreement>>>(StringComparer.Ordinal);
        foreach (var agreement in agreements)
        {
            foreach (var originator in agreement.Originators)
            {
                if (!lists.TryGetValue(originator, out var byRecipient))
                {
                    lists[originator] = byRecipient = new Dictionary<string, List<Agreement>>(StringComparer.Ordinal);
                }

                foreach (var recipient in agreement.Recipients)
                {
                    if (!byRecipient.TryGetValue(recipient, out var list))
                    {
                        byRecipient[recipient] = list = [];
                    }

                    list.Add(agreement);
                }
            }
        }

        return lists.ToDictionary(
            o => o.Key,
            o => o.Value.ToDictionary(
                r => r.Key,
                r => r.Value.OrderBy(a => a.Id, StringComparer.Ordinal).ToArray(),
                StringComparer.Ordinal),
            StringComparer.Ordinal);
    }
}
