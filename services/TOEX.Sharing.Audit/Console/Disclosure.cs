using TOEX.Sharing.Contracts;

namespace TOEX.Sharing.Audit.Console;

/// <summary>One recipient of a disclosure as the ledger tells it: the decision, any referral decision, the release, its delivery.</summary>
public sealed record RecipientStory(
    string Partner, ConsoleEntry? Decision, ConsoleEntry? Referral, ConsoleEntry? Release, IReadOnlyList<ConsoleEntry> Delivery)
{
    public IReadOnlyList<Reason> Reasons => Decision?.Read<List<Reason>>("reasons") ?? [];

    public IReadOnlyList<string> Obligations => Decision?.Texts("obligations") ?? [];

    public IReadOnlyList<string> Withheld => Release?.Texts("withheldFields") ?? [];

    /// <summary>The package's fields the recipient's copy holds: every field of the wire format but those withheld.</summary>
    public IReadOnlyList<string> Received => Release is null ? [] : Disclosure.Fields.Where(f => !Withheld.Contains(f)).ToList();

    public string? Outcome => Referral?.Outcome ?? Release?.Outcome ?? Decision?.Outcome;
}

/// <summary>A package's disclosure assembled from the ledger entries an officer may read.</summary>
public sealed class Disclosure(Guid packageId, IReadOnlyList<ConsoleEntry> entries)
{
    /// <summary>Every field of the package wire format (v1) a copy may hold, subjects' own fields as <c>subjects.x</c>.</summary>
    public static readonly IReadOnlyList<string> Fields =
    [
        .. typeof(IntelligencePackage).GetProperties().Select(p => Camel(p.Name))
            .Where(name => name is not ("recipients" or "subjects")),
        .. typeof(Subject).GetProperties().Select(p => "subjects." + Camel(p.Name)),
    ];

    public Guid PackageId => packageId;

    public IReadOnlyList<ConsoleEntry> Entries => entries;

    public ConsoleEntry? Submission => entries.FirstOrDefault(e => e.Type == "submission");

    public string? Reference => entries.Select(e => e.Text("reference")).FirstOrDefault(r => r is not null);

    public string? Originator => entries.Select(e => e.Originator).FirstOrDefault(o => o is not null);

    public ConsoleEntry? Recall => entries.FirstOrDefault(e => e.Type == "recall");

    /// <summary>Purpose, lawful basis, gateways and agreement as recorded with the submission (or, failing that, a release).</summary>
    public IReadOnlyDictionary<string, string> Grounds
    {
        get
        {
            var source = Submission ?? entries.FirstOrDefault(e => e.Type == "release");
            var grounds = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var part in (source?.Justification ?? "").Split("; ", StringSplitOptions.RemoveEmptyEntries))
            {
                foreach (var name in (string[])["purpose", "lawful basis", "gateways", "agreement"])
                {
                    if (part.StartsWith(name + " ", StringComparison.Ordinal))
                    {
                        grounds[name] = part[(name.Length + 1)..];
                    }
                }
            }
            return grounds;
        }
    }

    public string? PolicyVersion => entries.Select(e => e.Text("policyVersion")).FirstOrDefault(v => v is not null);

    public IReadOnlyList<RecipientStory> Recipients =>
    [
        .. entries.Where(e => e.Partner is not null)
            .Select(e => e.Partner!).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal)
            .Select(partner =>
            {
                var own = entries.Where(e => e.Partner == partner).ToList();
                return new RecipientStory(partner,
                    own.LastOrDefault(e => e.Type == "decision"),
                    own.LastOrDefault(e => e.Type.StartsWith("referral-", StringComparison.Ordinal)),
                    own.FirstOrDefault(e => e.Type == "release"),
                    [.. own.Where(e => e.Type is not ("decision" or "release") && !e.Type.StartsWith("referral-", StringComparison.Ordinal))]);
            }),
    ];

    private static string Camel(string name) => char.ToLowerInvariant(name[0]) + name[1..];
}
