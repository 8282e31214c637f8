using System.Reflection;
using System.Runtime.Loader;
using System.Text.RegularExpressions;
using TOEX.Sharing.Testing;

namespace TOEX.Sharing.Deploy.Tests;

/// <summary>
/// The operations guide (<c>deploy/README.md</c>, "Settings") names every setting the services read: each public
/// settable property of every <c>*Options</c> class under its <c>Section</c> constant (found by reflection over the
/// built services), every other <c>…Section</c> constant, and every key the source reads directly
/// (<c>Configuration["…"]</c>, <c>GetSection("…")</c>, <c>GetEnvironmentVariable("TOEX_…")</c>).
/// </summary>
public sealed partial class ConfigurationReferenceTests
{
    private const string Guide = "deploy/README.md";

    /// <summary>Options classes bound as list items, not under a Section of their own: the key each item is under.</summary>
    private static readonly Dictionary<string, string> ListItems = new(StringComparer.Ordinal)
    {
        ["TrustedIssuerOptions"] = "Authentication:Issuers:N",
        ["ConsoleIssuerOptions"] = "Console:Issuers:N",
        // One per key purpose (KeyCustody:PackageSigning, :DecisionSigning, …), each read as KeyCustody:PURPOSE:….
        ["PurposeOptions"] = "KeyCustody:PURPOSE",
        ["Pkcs11Options"] = "KeyCustody:Pkcs11",
        ["AzureKeyVaultOptions"] = "KeyCustody:AzureKeyVault",
    };

    private static readonly string[] Services = ["TOEX.Sharing.Gateway", "TOEX.Sharing.PolicyDecision", "TOEX.Sharing.Audit"];

    /// <summary>Every type of the built services and the libraries they ship with (TOEX.Sharing.* only).</summary>
    private static IEnumerable<Type> ServiceTypes()
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var service in Services)
        {
            var path = ChildProcess.BuiltServicePath(service);
            var context = new AssemblyLoadContext($"settings-{service}", isCollectible: true);
            var resolver = new AssemblyDependencyResolver(path);
            context.Resolving += (ctx, name) => resolver.ResolveAssemblyToPath(name) is { } found ? ctx.LoadFromAssemblyPath(found) : null;
            foreach (var file in Directory.EnumerateFiles(Path.GetDirectoryName(path)!, "TOEX.Sharing.*.dll"))
            {
                if (!seen.Add(Path.GetFileName(file)))
                {
                    continue;
                }
                Type?[] types;
                try
                {
                    types = context.LoadFromAssemblyPath(file).GetTypes();
                }
                catch (ReflectionTypeLoadException e)
                {
                    types = e.Types;
                }
                foreach (var type in types.OfType<Type>())
                {
                    yield return type;
                }
            }
        }
    }

    /// <summary>The settings the code reads, each with where it was found.</summary>
    public static IReadOnlyList<(string Key, string Source)> SettingsRead()
    {
        var settings = new List<(string, string)>();
        var problems = new List<string>();
        foreach (var type in ServiceTypes())
        {
            var sectionField = type.GetField("Section", BindingFlags.Public | BindingFlags.Static);
            if (type.Name.EndsWith("Options", StringComparison.Ordinal) && type.IsClass && (type.IsPublic || type.IsNestedPublic) && type.Namespace?.StartsWith("TOEX.Sharing", StringComparison.Ordinal) == true)
            {
                var section = sectionField?.GetRawConstantValue() as string ?? ListItems.GetValueOrDefault(type.Name);
                if (section is null)
                {
                    problems.Add($"{type.FullName} has no Section constant: give it one, or add it to ListItems in {nameof(ConfigurationReferenceTests)} with the key its items are under.");
                    continue;
                }
                foreach (var property in type.GetProperties(BindingFlags.Public | BindingFlags.Instance).Where(p => p.SetMethod?.IsPublic == true))
                {
                    settings.Add(($"{section}:{property.Name}", type.FullName!));
                }
            }
            foreach (var field in type.GetFields(BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Static)
                .Where(f => f.IsLiteral && f.Name.EndsWith("Section", StringComparison.Ordinal) && f.Name != "Section"))
            {
                settings.Add(((string)field.GetRawConstantValue()!, $"{type.FullName}.{field.Name}"));
            }
        }
        Assert.True(problems.Count == 0, string.Join("\n", problems));

        foreach (var file in Directory.EnumerateFiles(Path.Combine(RepoPaths.Root, "services"), "*.cs", SearchOption.AllDirectories)
            .Where(f => !f.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}", StringComparison.Ordinal)
                && !f.Contains($"{Path.DirectorySeparatorChar}bin{Path.DirectorySeparatorChar}", StringComparison.Ordinal)
                && !f.Contains("TOEX.Sharing.Cli", StringComparison.Ordinal)))
        {
            foreach (Match read in DirectRead().Matches(File.ReadAllText(file)))
            {
                settings.Add((read.Groups["key"].Value, Path.GetRelativePath(RepoPaths.Root, file)));
            }
        }
        return settings;
    }

    [Fact]
    public void The_operations_guide_names_every_setting_the_services_read()
    {
        var guide = File.ReadAllText(Path.Combine(RepoPaths.Root, Guide));
        var settings = SettingsRead();
        Assert.Contains(settings, s => s.Key == "Gateway:Webhooks:Horizon");
        Assert.Contains(settings, s => s.Key == "Authentication:Issuers:N:TenantId");
        Assert.Contains(settings, s => s.Key == "Clock:StartsAt");

        var missing = settings.Where(s => !Regex.IsMatch(guide, $"`{Regex.Escape(s.Key)}`"))
            .Select(s => $"  `{s.Key}` (read by {s.Source})").Distinct().Order(StringComparer.Ordinal).ToList();
        Assert.True(missing.Count == 0,
            $"Settings the services read that {Guide} does not name. Add each, in backticks, to a table of its \"Settings\" section "
            + $"with its default and purpose:\n{string.Join("\n", missing)}");
    }

    [GeneratedRegex("""(?:Configuration\[\s*"(?<key>[^"]+)"\s*\]|GetSection\(\s*"(?<key>[^"]+)"\s*\)|GetEnvironmentVariable\(\s*"(?<key>TOEX_[^"]+)"\s*\))""")]
    private static partial Regex DirectRead();
}
