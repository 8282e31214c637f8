using System.Text.RegularExpressions;
using TOEX.Sharing.Testing;

namespace TOEX.Sharing.Gateway.Tests;

/// <summary>
/// The gateway's folders depend in one direction: the edges (APIs and consumers) → delivery (the webhook dispatcher)
/// → the core (a recipient's life, its release) → release support (the audit gate, the outbox, keys, copies) → the store
/// and validation. Read from the sources: a <c>using</c> of a folder's namespace, or a name qualified by it, in a folder
/// below it fails. The root namespace (options, the composition in Extensions.cs) is not a layer.
/// </summary>
public sealed partial class GatewayLayersTests
{
    /// <summary>Each folder's rank: a folder may use only folders of a lower rank (or its own).</summary>
    public static readonly IReadOnlyDictionary<string, int> Ranks = new Dictionary<string, int>
    {
        ["Apis"] = 4,
        ["Consumers"] = 4,
        ["Delivery"] = 3,
        ["Core"] = 2,
        ["Release"] = 1,
        ["Data"] = 0,
        ["Validation"] = 0,
    };

    private static readonly string Gateway = Path.Combine(RepoPaths.Root, "services", "TOEX.Sharing.Gateway");

    [Fact]
    public void No_gateway_folder_depends_on_one_above_it()
    {
        var violations = Directory.GetDirectories(Gateway).Select(Path.GetFileName).Where(d => d is not ("bin" or "obj" or "Properties"))
            .SelectMany(folder => Directory.GetFiles(Path.Combine(Gateway, folder!), "*.cs", SearchOption.AllDirectories)
                .SelectMany(file => Violations(folder!, File.ReadAllText(file)).Select(v => $"{folder}/{Path.GetFileName(file)}: {v}")))
            .ToList();
        Assert.True(violations.Count == 0, string.Join(Environment.NewLine, violations));
    }

    [Fact]
    public void Every_folder_has_a_rank_and_its_files_are_in_its_namespace()
    {
        foreach (var folder in Directory.GetDirectories(Gateway).Select(Path.GetFileName).Where(d => d is not ("bin" or "obj" or "Properties")))
        {
            Assert.True(Ranks.ContainsKey(folder!), $"The gateway's folder {folder} has no rank in {nameof(GatewayLayersTests)}: say where it sits.");
            foreach (var file in Directory.GetFiles(Path.Combine(Gateway, folder!), "*.cs", SearchOption.AllDirectories))
            {
                // A subfolder's namespace extends its folder's (Data/Migrations/Sqlite: TOEX.Sharing.Gateway.Data.Migrations.Sqlite).
                Assert.Matches($@"(?m)^namespace TOEX\.Sharing\.Gateway\.{folder}(;|\.[A-Za-z.]+;?\r?$)", File.ReadAllText(file));
            }
        }
    }

    [Theory]
    [InlineData("Core", "using TOEX.Sharing.Gateway.Apis;", "Apis")]
    [InlineData("Delivery", "        var x = Apis.RecallApi.MaxReasonLength;", "Apis")]
    [InlineData("Release", "    private readonly TOEX.Sharing.Gateway.Core.Releaser _r;", "Core")]
    [InlineData("Data", "using TOEX.Sharing.Gateway.Release;", "Release")]
    public void A_use_of_a_folder_above_is_found(string folder, string line, string above)
    {
        var found = Assert.Single(Violations(folder, line));
        Assert.Contains(above, found, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("Apis", "using TOEX.Sharing.Gateway.Core;")]
    [InlineData("Core", "/// <summary>Unlike <c>Apis.FeedApi</c>, this …</summary>")]
    [InlineData("Release", "        catch (System.Data.Common.DbException) { }")]
    [InlineData("Core", "        return Problems.Validation(errors);")]
    public void A_use_of_a_folder_below_or_a_comment_is_not(string folder, string line) => Assert.Empty(Violations(folder, line));

    /// <summary>The folders above <paramref name="folder"/> that <paramref name="source"/> uses, with the line.</summary>
    internal static IEnumerable<string> Violations(string folder, string source)
    {
        var rank = Ranks[folder];
        foreach (var line in source.Split('\n').Select(l => l.Trim()).Where(l => !l.StartsWith("//", StringComparison.Ordinal)))
        {
            foreach (Match match in Reference().Matches(line))
            {
                var used = match.Groups["a"].Success ? match.Groups["a"].Value : match.Groups["b"].Value;
                if (Ranks.TryGetValue(used, out var usedRank) && usedRank > rank)
                {
                    yield return $"uses {used} (above {folder}): {line}";
                }
            }
        }
    }

    [GeneratedRegex(@"TOEX\.Sharing\.Gateway\.(?<a>[A-Z][A-Za-z]*)\b|(?<![\w.])(?<b>Apis|Consumers|Delivery|Core|Release|Data|Validation)\.[A-Z]")]
    private static partial Regex Reference();
}
