using System.Globalization;

namespace TOEX.Sharing.Policy.Yaml;

/// <summary>One item of a list of text values, with its line.</summary>
internal readonly record struct TextItem(string Value, int Line);

/// <summary>
/// Reads the keys of one YAML mapping, reporting unknown and duplicate keys, missing required keys
/// and values of the wrong shape as <see cref="PolicyProblem"/>s. Never throws on bad input.
/// </summary>
internal sealed class MappingReader
{
    private readonly Dictionary<string, KeyValuePair<YScalar, YNode>> entries = new(StringComparer.Ordinal);
    private readonly List<PolicyProblem> problems;

    private MappingReader(string file, YMapping mapping, IReadOnlyCollection<string> allowedKeys, List<PolicyProblem> problems)
    {
        File = file;
        Line = mapping.Line;
        this.problems = problems;
        foreach (var entry in mapping.Entries)
        {
            var key = entry.Key.Value;
            if (!allowedKeys.Contains(key))
            {
                Problem(entry.Key.Line, $"unknown key '{key}'");
            }
            else if (!entries.TryAdd(key, entry))
            {
                Problem(entry.Key.Line, $"duplicate key '{key}'");
            }
        }
    }

    public string File { get; }

    public int Line { get; }

    /// <summary>A reader over <paramref name="node"/>, or null (reported) when it is not a mapping.</summary>
    public static MappingReader? Over(string file, YNode node, string what, IReadOnlyCollection<string> allowedKeys, List<PolicyProblem> problems)
    {
        if (node is YMapping mapping)
        {
            return new MappingReader(file, mapping, allowedKeys, problems);
        }

        problems.Add(new PolicyProblem(file, node.Line, $"{what} must be a mapping of keys to values"));
        return null;
    }

    public void Problem(int line, string message) => problems.Add(new PolicyProblem(File, line, message));

    public bool Has(string key) => entries.ContainsKey(key);

    public int LineOf(string key) => entries.TryGetValue(key, out var entry) ? entry.Key.Line : Line;

    /// <summary>The value of <paramref name="key"/>; null when absent or null (reported when required).</summary>
    public YNode? Node(string key, bool required)
    {
        if (entries.TryGetValue(key, out var entry) && !(entry.Value is YScalar { IsNull: true }))
        {
            return entry.Value;
        }

        if (required)
        {
            Problem(entries.TryGetValue(key, out var present) ? present.Key.Line : Line, $"missing required key '{key}'");
        }

        return null;
    }

    public string? Text(string key, bool required)
    {
        switch (Node(key, required))
        {
            case null:
                return null;
            case YScalar scalar when !string.IsNullOrWhiteSpace(scalar.Value):
                return scalar.Value;
            case YScalar scalar:
                Problem(scalar.Line, $"'{key}' must not be empty");
                return null;
            case var other:
                Problem(other.Line, $"'{key}' must be a single text value");
                return null;
        }
    }

    public bool? Bool(string key, bool required)
    {
        var node = Node(key, required);
        if (node is null)
        {
            return null;
        }

        if (node is YScalar { Value: "true" or "True" or "TRUE" })
        {
            return true;
        }

        if (node is YScalar { Value: "false" or "False" or "FALSE" })
        {
            return false;
        }

        Problem(node.Line, $"'{key}' must be true or false");
        return null;
    }

    public int? Int(string key, bool required)
    {
        var node = Node(key, required);
        if (node is null)
        {
            return null;
        }

        if (node is YScalar scalar && int.TryParse(scalar.Value, NumberStyles.None, CultureInfo.InvariantCulture, out var value))
        {
            return value;
        }

        Problem(node.Line, $"'{key}' must be a whole number");
        return null;
    }

    public DateOnly? Date(string key, bool required)
    {
        var node = Node(key, required);
        if (node is null)
        {
            return null;
        }

        if (node is YScalar scalar && TryParseDate(scalar.Value, out var date))
        {
            return date;
        }

        Problem(node.Line, $"bad date '{Show(node)}' for '{key}' (expected yyyy-MM-dd)");
        return null;
    }

    /// <summary>A list of text values (null when absent and not required; reported when not a list).</summary>
    public List<TextItem>? TextList(string key, bool required, bool nonEmpty = false)
    {
        var node = Node(key, required);
        if (node is null)
        {
            return required ? null : [];
        }

        if (node is not YSequence sequence)
        {
            Problem(node.Line, $"'{key}' must be a list");
            return null;
        }

        if (nonEmpty && sequence.Items.Count == 0)
        {
            Problem(sequence.Line, $"'{key}' must not be empty");
        }

        var items = new List<TextItem>(sequence.Items.Count);
        foreach (var item in sequence.Items)
        {
            if (item is YScalar { IsNull: false } scalar && !string.IsNullOrWhiteSpace(scalar.Value))
            {
                items.Add(new TextItem(scalar.Value, scalar.Line));
            }
            else
            {
                Problem(item.Line, $"each item of '{key}' must be a non-empty text value");
            }
        }

        return items;
    }

    public MappingReader? Mapping(string key, bool required, IReadOnlyCollection<string> allowedKeys)
    {
        var node = Node(key, required);
        return node is null ? null : Over(File, node, $"'{key}'", allowedKeys, problems);
    }

    public static bool TryParseDate(string text, out DateOnly date) =>
        DateOnly.TryParseExact(text, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out date);

    private static string Show(YNode node) => node is YScalar scalar ? scalar.Value : "(not a single value)";
}
