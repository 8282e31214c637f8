using System.Text.RegularExpressions;
using YamlDotNet.Core;
using YamlDotNet.Core.Events;

namespace TOEX.Sharing.Policy.Yaml;

/// <summary>A YAML node with the line (1-based) where it starts.</summary>
internal abstract record YNode(int Line);

/// <summary>A scalar; <see cref="IsNull"/> for a plain <c>null</c>, <c>~</c> or empty value.</summary>
internal sealed record YScalar(int Line, string Value, bool IsNull) : YNode(Line);

internal sealed record YSequence(int Line, IReadOnlyList<YNode> Items) : YNode(Line);

internal sealed record YMapping(int Line, IReadOnlyList<KeyValuePair<YScalar, YNode>> Entries) : YNode(Line);

/// <summary>
/// Builds a small node tree from YamlDotNet's parser events, keeping each node's line. Unlike the
/// representation model it keeps duplicate keys, so that validation can report all of them.
/// </summary>
internal static partial class YamlTree
{
    /// <summary>The root node of the single document in <paramref name="text"/>, or null (empty file or a syntax error, reported).</summary>
    public static YNode? Parse(string text, string file, List<PolicyProblem> problems)
    {
        try
        {
            var parser = new Parser(new StringReader(text));
            parser.Consume<StreamStart>();
            if (parser.TryConsume<StreamEnd>(out _))
            {
                return null;
            }

            parser.Consume<DocumentStart>();
            var root = ReadNode(parser, file, problems);
            parser.Consume<DocumentEnd>();
            if (parser.Accept<DocumentStart>(out var next))
            {
                problems.Add(new PolicyProblem(file, LineOf(next.Start), "only one YAML document per file is allowed"));
            }

            return root;
        }
        catch (YamlException e)
        {
            problems.Add(new PolicyProblem(file, Math.Max(1, LineOf(e.Start)), "invalid YAML: " + StripPosition(e.Message)));
            return null;
        }
    }

    private static YNode ReadNode(IParser parser, string file, List<PolicyProblem> problems)
    {
        if (parser.TryConsume<Scalar>(out var scalar))
        {
            var isNull = scalar.Style == ScalarStyle.Plain && scalar.Value is "" or "~" or "null" or "Null" or "NULL";
            return new YScalar(LineOf(scalar.Start), scalar.Value, isNull);
        }

        if (parser.TryConsume<SequenceStart>(out var sequenceStart))
        {
            var items = new List<YNode>();
            while (!parser.TryConsume<SequenceEnd>(out _))
            {
                items.Add(ReadNode(parser, file, problems));
            }

            return new YSequence(LineOf(sequenceStart.Start), items);
        }

        if (parser.TryConsume<MappingStart>(out var mappingStart))
        {
            var entries = new List<KeyValuePair<YScalar, YNode>>();
            while (!parser.TryConsume<MappingEnd>(out _))
            {
                var key = ReadNode(parser, file, problems);
                var value = ReadNode(parser, file, problems);
                if (key is YScalar keyScalar)
                {
                    entries.Add(new(keyScalar, value));
                }
                else
                {
                    problems.Add(new PolicyProblem(file, key.Line, "mapping keys must be plain text"));
                }
            }

            return new YMapping(LineOf(mappingStart.Start), entries);
        }

        var alias = parser.Consume<AnchorAlias>();
        problems.Add(new PolicyProblem(file, LineOf(alias.Start), "YAML aliases are not supported"));
        return new YScalar(LineOf(alias.Start), "", IsNull: true);
    }

    private static int LineOf(Mark mark) => (int)mark.Line;

    private static string StripPosition(string message) => PositionPrefix().Replace(message, "");

    [GeneratedRegex(@"^\(Line: \d+, Col: \d+, Idx: \d+\) - \(Line: \d+, Col: \d+, Idx: \d+\): ")]
    private static partial Regex PositionPrefix();
}
