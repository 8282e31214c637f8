using System.Globalization;
using TOEX.Sharing.Contracts;

namespace TOEX.Sharing.Policy.Tests;

/// <summary>The shipped policy set (the repository's policies/), loaded once.</summary>
internal static class Shipped
{
    private static readonly Lazy<PolicySet> LazySet = new(() => PolicySet.Load(PolicyPaths.FindDefault()));

    public static PolicySet Set => LazySet.Value;

    public static PolicyEngine Engine { get; } = new(Set);

    public static RecipientDecision Decide(PackageFacts facts, string at) => Decide(Engine, facts, at);

    public static RecipientDecision Decide(PolicyEngine engine, PackageFacts facts, string at) =>
        Assert.Single(engine.Decide(facts, Instant(at)).Decisions);

    public static DateTimeOffset Instant(string at) =>
        DateTimeOffset.Parse(at, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal);

    public static string[] Codes(RecipientDecision decision) => [.. decision.Reasons.Select(r => r.Code)];

    public static string[] Types(RecipientDecision decision) => [.. decision.Obligations.Select(o => o.Type)];
}

/// <summary>Package facts that the shipped agreements permit; tests vary one thing at a time.</summary>
internal static class Packages
{
    public static readonly DateOnly Adult = new(1985, 6, 30);

    /// <summary>rocu-wm to wmp under DSA-POLICE-001.</summary>
    public static readonly PackageFacts LawEnforcement = new()
    {
        Originator = "rocu-wm",
        Classification = "OFFICIAL",
        HandlingCode = "P",
        SourceEvaluation = "1",
        IntelligenceAssessment = "A",
        Purpose = "law-enforcement",
        LawfulBasis = "DPA2018-Part3:s35(2)(b)",
        DataCategories = ["personal", "criminal-offence"],
        MinorUntil = PackageFacts.MinorUntilOf([Adult]),
        Recipients = ["wmp"],
    };

    /// <summary>rocu-wm to safe-haven under ISA-SH-006.</summary>
    public static readonly PackageFacts SafeguardingAdults = LawEnforcement with
    {
        Purpose = "safeguarding-adults",
        LawfulBasis = "UKGDPR:Art6(1)(e)",
        DataCategories = ["personal"],
        Recipients = ["safe-haven"],
    };

    /// <summary>rocu-wm to bcc-childrens under ISA-BCC-003 (or bsol-nhs-safeguarding under ISA-NHS-004).</summary>
    public static readonly PackageFacts SafeguardingChildren = LawEnforcement with
    {
        Purpose = "safeguarding-children",
        LawfulBasis = "UKGDPR:Art6(1)(e)",
        StatutoryGateways = ["CA2004:s11"],
        DataCategories = ["personal"],
        Recipients = ["bcc-childrens"],
    };

    /// <summary>DOMAIN.md "The package on the wire".</summary>
    public static readonly PackageFacts DomainExample = new()
    {
        Originator = "rocu-wm",
        Classification = "OFFICIAL-SENSITIVE",
        HandlingCode = "C",
        HandlingConditions = ["Do not disclose to the subject", "Consult the originator before action"],
        SourceEvaluation = "2",
        IntelligenceAssessment = "B",
        Purpose = "safeguarding-children",
        LawfulBasis = "DPA2018-Part3:s35(2)(b)",
        StatutoryGateways = ["CA2004:s11"],
        DataCategories = ["personal", "children", "criminal-offence"],
        SensitiveCondition = null,
        OriginatorConsentRequired = false,
        MinorUntil = PackageFacts.MinorUntilOf([new DateOnly(2010, 3, 14), new DateOnly(1992, 7, 1)]),
        Recipients = ["bcc-childrens", "wmp"],
    };
}

/// <summary>A policies directory in the temp folder, deleted on dispose.</summary>
internal sealed class TempPolicies : IDisposable
{
    public TempPolicies()
    {
        Directory.CreateDirectory(Path);
    }

    public string Path { get; } = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "toex-policies-" + Guid.NewGuid().ToString("N"));

    public static TempPolicies CopyOfShipped()
    {
        var temp = new TempPolicies();
        var source = PolicyPaths.FindDefault();
        foreach (var file in Directory.EnumerateFiles(source, "*.yaml", SearchOption.AllDirectories))
        {
            temp.Write(System.IO.Path.GetRelativePath(source, file), File.ReadAllText(file));
        }

        return temp;
    }

    public TempPolicies Write(string relativePath, string content)
    {
        var full = System.IO.Path.Combine(Path, relativePath);
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(full)!);
        File.WriteAllText(full, content);
        return this;
    }

    public PolicySet Load() => PolicySet.Load(Path);

    public PolicyValidationException LoadFails() => Assert.Throws<PolicyValidationException>(() => PolicySet.Load(Path));

    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
            // Best effort: the temp folder is cleaned eventually.
        }
    }
}

/// <summary>Small policy files for tests that need a policy set of their own.</summary>
internal static class PolicyYaml
{
    public static string Partners(params string[] partners) => "partners:\n" + string.Concat(partners);

    public static string Partner(string id, bool competent = true, string ceiling = "OFFICIAL-SENSITIVE") => $"""
          - id: {id}
            name: Partner {id}
            kind: {(competent ? "police-force" : "voluntary")}
            competent: {(competent ? "true" : "false")}
            ceiling: {ceiling}
            delivery: pull

        """;

    public static string Agreements(params string[] agreements) => "agreements:\n" + string.Concat(agreements);

    public static string Agreement(
        string id,
        string originators = "[x]",
        string recipients = "[y]",
        string purposes = "[law-enforcement]",
        string status = "active",
        string ceiling = "OFFICIAL-SENSITIVE",
        string needsApproval = "[]",
        string dataCategories = "[personal, criminal-offence]",
        string withheldFields = "[]",
        string retention = "",
        string onwardSharing = "true") => $"""
          - id: {id}
            title: Agreement {id}
            owner: Test owner
            version: "1"
            status: {status}
            validFrom: 2025-01-01
            validTo: 2027-12-31
            reviewDue: 2027-06-30
            originators: {originators}
            recipients: {recipients}
            purposes: {purposes}
            lawfulBases: ["DPA2018-Part3:s35(2)(b)"]
            dataCategories: {dataCategories}
            ceiling: {ceiling}
            conditionsAccepted: true
            needsApproval: {needsApproval}
            withheldFields: {withheldFields}
            {(retention.Length > 0 ? "retentionDays: " + retention : "")}
            onwardSharing: {onwardSharing}
            clauses:
              parties: "{id} §1"
              purposes: "{id} §2"
              lawfulBases: "{id} §3"
              statutoryGateways: "{id} §4"
              dataCategories: "{id} §5"
              sensitiveConditions: "{id} §6"
              ceiling: "{id} §7"
              conditions: "{id} §8"
              approval: "{id} §9"
              retention: "{id} §10"
              onwardSharing: "{id} §11"
              validity: "{id} §12"
              review: "{id} §13"
              sanitisation: "{id} §14"

        """;

    /// <summary>Facts that <see cref="Agreement"/>'s defaults permit, from x to y.</summary>
    public static readonly PackageFacts XToY = Packages.LawEnforcement with { Originator = "x", Recipients = ["y"] };
}
