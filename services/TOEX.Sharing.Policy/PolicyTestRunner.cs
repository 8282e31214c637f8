using System.Globalization;
using TOEX.Sharing.Contracts;
using TOEX.Sharing.Policy.Yaml;

namespace TOEX.Sharing.Policy;

/// <summary>
/// Runs the policy test cases kept beside the policies (<c>tests/*.yaml</c>; format in <c>policies/README.md</c>).
/// A malformed test file or case is a failed result whose message lists its problems as <c>file:line: message</c>.
/// </summary>
public static class PolicyTestRunner
{
    private static readonly string[] FileKeys = ["base", "cases"];
    private static readonly string[] CaseKeys = ["name", "description", "at", "package", "expect"];
    private static readonly string[] ExpectKeys = ["recipient", "outcome", "agreement", "reasons", "obligations"];
    private static readonly string[] ReasonKeys = ["code", "clause"];
    private static readonly string[] ObligationKeys = ["type", "fields", "conditions", "date"];

    private static readonly string[] PackageKeys =
    [
        "originator", "classification", "handlingCode", "handlingConditions", "sourceEvaluation", "intelligenceAssessment",
        "purpose", "lawfulBasis", "statutoryGateways", "dataCategories", "sensitiveCondition", "originatorConsentRequired",
        "subjectDatesOfBirth", "recipients",
    ];

    /// <summary>Loads the policy set in <paramref name="policiesDirectory"/> and runs every case of its <c>tests/</c> folder.</summary>
    /// <exception cref="PolicyValidationException">The policy set itself is invalid.</exception>
    public static IReadOnlyList<PolicyTestResult> Run(string policiesDirectory)
    {
        var engine = new PolicyEngine(PolicySet.Load(policiesDirectory));
        var testsDirectory = Path.Combine(Path.GetFullPath(policiesDirectory), PolicySet.TestsFolder);
        var results = new List<PolicyTestResult>();
        if (!Directory.Exists(testsDirectory))
        {
            return results;
        }

        var files = Directory.EnumerateFiles(testsDirectory, "*", SearchOption.AllDirectories)
            .Where(f => f.EndsWith(".yaml", StringComparison.OrdinalIgnoreCase) || f.EndsWith(".yml", StringComparison.OrdinalIgnoreCase))
            .Select(f => Path.GetRelativePath(Path.GetFullPath(policiesDirectory), f).Replace('\\', '/'))
            .OrderBy(f => f, StringComparer.Ordinal);
        foreach (var file in files)
        {
            RunFile(engine, file, File.ReadAllBytes(Path.Combine(policiesDirectory, file)), results);
        }

        return results;
    }

    private static void RunFile(PolicyEngine engine, string file, byte[] bytes, List<PolicyTestResult> results)
    {
        var problems = new List<PolicyProblem>();
        YNode? root = null;
        if (PolicySet.TryDecode(bytes, out var text))
        {
            root = YamlTree.Parse(text, file, problems);
        }
        else
        {
            problems.Add(new PolicyProblem(file, 1, "the file is not valid UTF-8"));
        }

        var reader = root is null ? null : MappingReader.Over(file, root, "a policy test file", FileKeys, problems);
        YMapping? basePackage = null;
        var cases = new List<YNode>();
        if (reader is not null)
        {
            if (reader.Node("base", required: false) is { } baseNode)
            {
                // Read once here so that its own problems are reported once, not per case.
                _ = MappingReader.Over(file, baseNode, "'base'", PackageKeys, problems);
                basePackage = baseNode as YMapping;
            }

            switch (reader.Node("cases", required: true))
            {
                case YSequence sequence:
                    cases.AddRange(sequence.Items);
                    break;
                case { } other:
                    problems.Add(new PolicyProblem(file, other.Line, "'cases' must be a list"));
                    break;
            }
        }
        else if (root is null && problems.Count == 0)
        {
            problems.Add(new PolicyProblem(file, 1, "the file is empty: expected 'cases'"));
        }

        if (problems.Count > 0)
        {
            results.Add(new PolicyTestResult(file, Passed: false, Join(problems)));
            return;
        }

        foreach (var node in cases)
        {
            results.Add(RunCase(engine, file, node, basePackage));
        }
    }

    private static PolicyTestResult RunCase(PolicyEngine engine, string file, YNode node, YMapping? basePackage)
    {
        var problems = new List<PolicyProblem>();
        var location = $"{file}:{node.Line}";
        var r = MappingReader.Over(file, node, "a test case", CaseKeys, problems);
        if (r is null)
        {
            return new PolicyTestResult(location, Passed: false, Join(problems));
        }

        var name = r.Text("name", required: true) ?? location;
        _ = r.Text("description", required: false);
        var at = ReadInstant(r);
        var facts = ReadFacts(r, basePackage, problems);
        var expectations = ReadExpectations(r, problems);
        if (problems.Count > 0 || at is null || facts is null || expectations is null)
        {
            return new PolicyTestResult(name, Passed: false, Join(problems));
        }

        var document = engine.Decide(facts, at.Value);
        var differences = Compare(document, facts, expectations);
        return differences.Count == 0
            ? new PolicyTestResult(name, Passed: true, Failure: null)
            : new PolicyTestResult(name, Passed: false, $"{location}: {string.Join("; ", differences)}");
    }

    private static DateTimeOffset? ReadInstant(MappingReader r)
    {
        var text = r.Text("at", required: true);
        if (text is null)
        {
            return null;
        }

        if (DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var at))
        {
            return at;
        }

        r.Problem(r.LineOf("at"), $"bad instant '{text}' for 'at' (expected ISO-8601, e.g. 2026-11-25T12:00:00Z)");
        return null;
    }

    private static PackageFacts? ReadFacts(MappingReader r, YMapping? basePackage, List<PolicyProblem> problems)
    {
        var own = r.Node("package", required: basePackage is null);
        if (own is not null and not YMapping)
        {
            r.Problem(own.Line, "'package' must be a mapping of keys to values");
            return null;
        }

        // The case's keys replace the base's, key by key.
        var ownMapping = own as YMapping;
        var entries = new List<KeyValuePair<YScalar, YNode>>();
        var ownKeys = new HashSet<string>(ownMapping?.Entries.Select(e => e.Key.Value) ?? [], StringComparer.Ordinal);
        if (basePackage is not null)
        {
            entries.AddRange(basePackage.Entries.Where(e => !ownKeys.Contains(e.Key.Value) && PackageKeys.Contains(e.Key.Value)));
        }

        if (ownMapping is not null)
        {
            entries.AddRange(ownMapping.Entries);
        }

        var merged = new YMapping(ownMapping?.Line ?? r.Line, entries);
        var p = MappingReader.Over(r.File, merged, "'package'", PackageKeys, problems)!;
        var originator = p.Text("originator", required: true);
        var classification = p.Text("classification", required: true);
        var handlingCode = p.Text("handlingCode", required: true);
        var handlingConditions = p.TextList("handlingConditions", required: false);
        var sourceEvaluation = p.Text("sourceEvaluation", required: true);
        var intelligenceAssessment = p.Text("intelligenceAssessment", required: true);
        var purpose = p.Text("purpose", required: true);
        var lawfulBasis = p.Text("lawfulBasis", required: true);
        var gateways = p.TextList("statutoryGateways", required: false);
        var categories = p.TextList("dataCategories", required: true);
        var sensitiveCondition = p.Text("sensitiveCondition", required: false);
        var consent = p.Bool("originatorConsentRequired", required: false) ?? false;
        var datesOfBirth = ReadDatesOfBirth(p);
        var recipients = p.TextList("recipients", required: true, nonEmpty: true);
        if (originator is null || classification is null || handlingCode is null || handlingConditions is null
            || sourceEvaluation is null || intelligenceAssessment is null || purpose is null || lawfulBasis is null
            || gateways is null || categories is null || datesOfBirth is null || recipients is null)
        {
            return null;
        }

        return new PackageFacts
        {
            Originator = originator,
            Classification = classification,
            HandlingCode = handlingCode,
            HandlingConditions = Values(handlingConditions),
            SourceEvaluation = sourceEvaluation,
            IntelligenceAssessment = intelligenceAssessment,
            Purpose = purpose,
            LawfulBasis = lawfulBasis,
            StatutoryGateways = Values(gateways),
            DataCategories = Values(categories),
            SensitiveCondition = sensitiveCondition,
            OriginatorConsentRequired = consent,
            SubjectCount = datesOfBirth.Count,
            MinorUntil = PackageFacts.MinorUntilOf(datesOfBirth),
            Recipients = Values(recipients),
        };
    }

    private static List<DateOnly?>? ReadDatesOfBirth(MappingReader p)
    {
        var node = p.Node("subjectDatesOfBirth", required: false);
        if (node is null)
        {
            return [];
        }

        if (node is not YSequence sequence)
        {
            p.Problem(node.Line, "'subjectDatesOfBirth' must be a list of dates (yyyy-MM-dd) or nulls");
            return null;
        }

        var dates = new List<DateOnly?>();
        foreach (var item in sequence.Items)
        {
            if (item is YScalar { IsNull: true })
            {
                dates.Add(null);
            }
            else if (item is YScalar scalar && MappingReader.TryParseDate(scalar.Value, out var date))
            {
                dates.Add(date);
            }
            else
            {
                p.Problem(item.Line, "each item of 'subjectDatesOfBirth' must be a date (yyyy-MM-dd) or null");
                return null;
            }
        }

        return dates;
    }

    private static List<Expectation>? ReadExpectations(MappingReader r, List<PolicyProblem> problems)
    {
        var node = r.Node("expect", required: true);
        if (node is null)
        {
            return null;
        }

        if (node is not YSequence sequence)
        {
            r.Problem(node.Line, "'expect' must be a list, one item per recipient");
            return null;
        }

        var expectations = new List<Expectation>();
        foreach (var item in sequence.Items)
        {
            var e = MappingReader.Over(r.File, item, "an expectation", ExpectKeys, problems);
            if (e is null)
            {
                continue;
            }

            var recipient = e.Text("recipient", required: true);
            var outcome = e.Text("outcome", required: true);
            if (outcome is not null && !Outcomes.All.Contains(outcome))
            {
                e.Problem(e.LineOf("outcome"), $"unknown outcome '{outcome}' (expected permit, refer or deny)");
            }

            if (recipient is not null && expectations.Any(x => x.Recipient == recipient))
            {
                e.Problem(e.LineOf("recipient"), $"recipient '{recipient}' is expected twice");
            }

            var agreement = e.Text("agreement", required: false);
            var reasons = ReadReasons(e, problems);
            var obligations = ReadObligations(e, problems);
            if (recipient is not null && outcome is not null)
            {
                expectations.Add(new Expectation(recipient, outcome, agreement, reasons, obligations));
            }
        }

        return expectations;
    }

    private static List<ExpectedReason> ReadReasons(MappingReader e, List<PolicyProblem> problems)
    {
        var reasons = new List<ExpectedReason>();
        foreach (var item in Items(e, "reasons"))
        {
            string? code;
            string? clause = null;
            if (item is YScalar { IsNull: false } scalar)
            {
                code = scalar.Value;
            }
            else
            {
                var m = MappingReader.Over(e.File, item, "a reason", ReasonKeys, problems);
                code = m?.Text("code", required: true);
                clause = m?.Text("clause", required: false);
            }

            if (code is not null && !ReasonCodes.All.Contains(code))
            {
                e.Problem(item.Line, $"unknown reason code '{code}'");
            }
            else if (code is not null)
            {
                reasons.Add(new ExpectedReason(code, clause));
            }
        }

        return reasons;
    }

    private static List<ExpectedObligation> ReadObligations(MappingReader e, List<PolicyProblem> problems)
    {
        var obligations = new List<ExpectedObligation>();
        foreach (var item in Items(e, "obligations"))
        {
            string? type;
            List<TextItem>? fields = null;
            List<TextItem>? conditions = null;
            DateOnly? date = null;
            if (item is YScalar { IsNull: false } scalar)
            {
                type = scalar.Value;
            }
            else
            {
                var m = MappingReader.Over(e.File, item, "an obligation", ObligationKeys, problems);
                type = m?.Text("type", required: true);
                fields = m is not null && m.Has("fields") ? m.TextList("fields", required: true) : null;
                conditions = m is not null && m.Has("conditions") ? m.TextList("conditions", required: true) : null;
                date = m?.Date("date", required: false);
            }

            if (type is not null && !ObligationTypes.All.Contains(type))
            {
                e.Problem(item.Line, $"unknown obligation type '{type}'");
            }
            else if (type is not null)
            {
                obligations.Add(new ExpectedObligation(
                    type, fields is null ? null : Values(fields), conditions is null ? null : Values(conditions), date));
            }
        }

        return obligations;
    }

    /// <summary>The items of an optional list (absent or null: none).</summary>
    private static IReadOnlyList<YNode> Items(MappingReader m, string key)
    {
        switch (m.Node(key, required: false))
        {
            case null:
                return [];
            case YSequence sequence:
                return sequence.Items;
            case var other:
                m.Problem(other.Line, $"'{key}' must be a list");
                return [];
        }
    }

    private static List<string> Compare(DecisionDocument document, PackageFacts facts, List<Expectation> expectations)
    {
        var differences = new List<string>();
        foreach (var expected in expectations)
        {
            if (!facts.Recipients.Contains(expected.Recipient))
            {
                differences.Add($"'{expected.Recipient}' is expected but is not a recipient of the package");
            }
        }

        foreach (var actual in document.Decisions)
        {
            var expected = expectations.FirstOrDefault(x => x.Recipient == actual.Recipient);
            if (expected is null)
            {
                differences.Add($"{actual.Recipient}: no expectation given (outcome {actual.Outcome})");
                continue;
            }

            var who = actual.Recipient;
            if (actual.Outcome != expected.Outcome)
            {
                differences.Add($"{who}: outcome {actual.Outcome}, expected {expected.Outcome}");
            }

            if (actual.Agreement != expected.Agreement)
            {
                differences.Add($"{who}: agreement {actual.Agreement ?? "none"}, expected {expected.Agreement ?? "none"}");
            }

            var actualCodes = actual.Reasons.Select(x => x.Code).ToHashSet(StringComparer.Ordinal);
            var expectedCodes = expected.Reasons.Select(x => x.Code).ToHashSet(StringComparer.Ordinal);
            if (!actualCodes.SetEquals(expectedCodes))
            {
                differences.Add($"{who}: reasons [{string.Join(", ", actual.Reasons.Select(x => x.Code))}], expected [{string.Join(", ", expected.Reasons.Select(x => x.Code))}]");
            }

            foreach (var reason in expected.Reasons.Where(x => x.Clause is not null))
            {
                var found = actual.Reasons.FirstOrDefault(x => x.Code == reason.Code);
                if (found is not null && found.Clause != reason.Clause)
                {
                    differences.Add($"{who}: {reason.Code} clause '{found.Clause}', expected '{reason.Clause}'");
                }
            }

            CompareObligations(who, actual.Obligations, expected.Obligations, differences);
        }

        return differences;
    }

    private static void CompareObligations(string who, IReadOnlyList<Obligation> actual, List<ExpectedObligation> expected, List<string> differences)
    {
        var actualTypes = string.Join(", ", actual.Select(o => o.Type));
        var expectedTypes = string.Join(", ", expected.Select(o => o.Type));
        if (actualTypes != expectedTypes)
        {
            differences.Add($"{who}: obligations [{actualTypes}], expected [{expectedTypes}]");
            return;
        }

        for (var i = 0; i < expected.Count; i++)
        {
            var (type, fields, conditions, date) = expected[i];
            if (fields is not null && !(actual[i].Fields ?? []).SequenceEqual(fields))
            {
                differences.Add($"{who}: {type} fields [{string.Join(", ", actual[i].Fields ?? [])}], expected [{string.Join(", ", fields)}]");
            }

            if (conditions is not null && !(actual[i].Conditions ?? []).SequenceEqual(conditions))
            {
                differences.Add($"{who}: {type} conditions differ from those expected");
            }

            if (date is not null && actual[i].Date != date)
            {
                differences.Add($"{who}: {type} date {actual[i].Date:yyyy-MM-dd}, expected {date:yyyy-MM-dd}");
            }
        }
    }

    private static string[] Values(List<TextItem> items) => [.. items.Select(i => i.Value)];

    private static string Join(List<PolicyProblem> problems) =>
        string.Join('\n', PolicySet.Sorted([.. problems.Distinct()]));

    private sealed record Expectation(
        string Recipient, string Outcome, string? Agreement, List<ExpectedReason> Reasons, List<ExpectedObligation> Obligations);

    private sealed record ExpectedReason(string Code, string? Clause);

    private sealed record ExpectedObligation(string Type, string[]? Fields, string[]? Conditions, DateOnly? Date);
}
