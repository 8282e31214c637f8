using TOEX.Sharing.Contracts;
using TOEX.Sharing.Policy.Yaml;

namespace TOEX.Sharing.Policy;

/// <summary>Reads policy files into partners and agreements, collecting every problem instead of stopping at the first.</summary>
internal sealed class PolicyLoader(List<PolicyProblem> problems)
{
    private static readonly string[] RootKeys = ["partners", "agreements"];

    private static readonly string[] PartnerKeys = ["id", "name", "kind", "competent", "ceiling", "delivery", "endpoint"];

    private static readonly string[] AgreementKeys =
    [
        "id", "title", "owner", "version", "status", "validFrom", "validTo", "reviewDue", "originators", "recipients",
        "purposes", "lawfulBases", "statutoryGateways", "dataCategories", "sensitiveConditions", "ceiling",
        "conditionsAccepted", "needsApproval", "withheldFields", "retentionDays", "onwardSharing", "clauses",
    ];

    private readonly Dictionary<string, Partner> partners = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Agreement> agreements = new(StringComparer.Ordinal);

    // Every id declared, valid or not, so that one bad entry does not cascade into "unknown partner" elsewhere.
    private readonly Dictionary<string, (string File, int Line)> partnerIds = new(StringComparer.Ordinal);
    private readonly Dictionary<string, (string File, int Line)> agreementIds = new(StringComparer.Ordinal);
    private readonly List<(string File, TextItem Item)> partyReferences = [];

    public IReadOnlyDictionary<string, Partner> Partners => partners;

    public IReadOnlyDictionary<string, Agreement> Agreements => agreements;

    public void LoadFile(string file, string text)
    {
        var root = YamlTree.Parse(text, file, problems);
        if (root is null)
        {
            return;
        }

        var reader = MappingReader.Over(file, root, "a policy file", RootKeys, problems);
        if (reader is null)
        {
            return;
        }

        foreach (var node in Items(reader, "partners"))
        {
            LoadPartner(file, node);
        }

        foreach (var node in Items(reader, "agreements"))
        {
            LoadAgreement(file, node);
        }
    }

    /// <summary>Checks that span files: every party an agreement names is a registered partner.</summary>
    public void CheckReferences()
    {
        foreach (var (file, item) in partyReferences)
        {
            if (!partnerIds.ContainsKey(item.Value))
            {
                problems.Add(new PolicyProblem(file, item.Line, $"unknown partner '{item.Value}'"));
            }
        }
    }

    private IReadOnlyList<YNode> Items(MappingReader reader, string key)
    {
        var node = reader.Node(key, required: false);
        if (node is null)
        {
            return [];
        }

        if (node is YSequence sequence)
        {
            return sequence.Items;
        }

        problems.Add(new PolicyProblem(reader.File, node.Line, $"'{key}' must be a list"));
        return [];
    }

    private void LoadPartner(string file, YNode node)
    {
        var r = MappingReader.Over(file, node, "a partner", PartnerKeys, problems);
        if (r is null)
        {
            return;
        }

        var id = r.Text("id", required: true);
        var isNew = id is not null && Declare(r, partnerIds, id, "partner");

        var name = r.Text("name", required: true);
        var kind = OneOf(r, "kind", PolicyVocabulary.PartnerKinds, "partner kind");
        var competent = r.Bool("competent", required: true);
        var ceiling = OneOf(r, "ceiling", Vocabulary.Classifications, "classification");
        var delivery = OneOf(r, "delivery", PolicyVocabulary.Deliveries, "delivery");
        var endpointText = r.Text("endpoint", required: false);
        Uri? endpoint = null;
        if (endpointText is not null)
        {
            if (Uri.TryCreate(endpointText, UriKind.Absolute, out var uri) && uri.Scheme == Uri.UriSchemeHttps)
            {
                endpoint = uri;
            }
            else
            {
                r.Problem(r.LineOf("endpoint"), $"endpoint '{endpointText}' must be an absolute https URL");
            }
        }

        if (delivery == "push" && endpointText is null)
        {
            r.Problem(r.LineOf("delivery"), "push delivery needs an 'endpoint'");
        }
        else if (delivery == "pull" && endpointText is not null)
        {
            r.Problem(r.LineOf("endpoint"), "'endpoint' is only for push delivery");
        }

        if (!isNew || id is null || name is null || kind is null || competent is null || ceiling is null || delivery is null)
        {
            return;
        }

        partners.Add(id, new Partner(id, name, kind, competent.Value, ceiling, delivery, endpoint));
    }

    private void LoadAgreement(string file, YNode node)
    {
        var r = MappingReader.Over(file, node, "an agreement", AgreementKeys, problems);
        if (r is null)
        {
            return;
        }

        var id = r.Text("id", required: true);
        var isNew = id is not null && Declare(r, agreementIds, id, "agreement");

        var title = r.Text("title", required: true);
        var owner = r.Text("owner", required: true);
        var version = r.Text("version", required: true);
        var status = OneOf(r, "status", PolicyVocabulary.AgreementStatuses, "status", " (expected draft, active, suspended or terminated)");
        var validFrom = r.Date("validFrom", required: true);
        var validTo = r.Date("validTo", required: true);
        var reviewDue = r.Date("reviewDue", required: true);
        if (validFrom > validTo)
        {
            r.Problem(r.LineOf("validFrom"), $"validFrom {validFrom:yyyy-MM-dd} is after validTo {validTo:yyyy-MM-dd}");
        }

        var originators = Parties(r, file, "originators");
        var recipients = Parties(r, file, "recipients");
        var purposes = ListOf(r, "purposes", Vocabulary.Purposes, "purpose", required: true);
        var lawfulBases = ListOf(r, "lawfulBases", Vocabulary.LawfulBases, "lawful basis", required: true);
        var gateways = ListOf(r, "statutoryGateways", Vocabulary.StatutoryGateways, "statutory gateway", required: false);
        var categories = ListOf(r, "dataCategories", Vocabulary.DataCategories, "data category", required: true);
        var conditions = ListOf(r, "sensitiveConditions", Vocabulary.SensitiveConditions, "sensitive condition", required: false);
        var ceiling = OneOf(r, "ceiling", Vocabulary.Classifications, "classification");
        var conditionsAccepted = r.Bool("conditionsAccepted", required: true);
        var needsApproval = ListOf(r, "needsApproval", PolicyVocabulary.ApprovalCases, "approval case", required: false);
        var withheld = ListOf(r, "withheldFields", PolicyVocabulary.WithholdableFields, "withheld field", required: false);
        var retentionDays = r.Int("retentionDays", required: false);
        if (retentionDays is <= 0)
        {
            r.Problem(r.LineOf("retentionDays"), "retentionDays must be a positive number of days (leave it out for no limit)");
        }

        var onwardSharing = r.Bool("onwardSharing", required: true);
        var clauses = Clauses(r);

        if (!isNew || id is null || title is null || owner is null || version is null || status is null || validFrom is null
            || validTo is null || reviewDue is null || originators is null || recipients is null || purposes is null
            || lawfulBases is null || gateways is null || categories is null || conditions is null || ceiling is null
            || conditionsAccepted is null || needsApproval is null || withheld is null || onwardSharing is null || clauses is null)
        {
            return;
        }

        var agreement = new Agreement
        {
            Id = id,
            Title = title,
            Owner = owner,
            Version = version,
            Status = status,
            ValidFrom = validFrom.Value,
            ValidTo = validTo.Value,
            ReviewDue = reviewDue.Value,
            Originators = originators,
            Recipients = recipients,
            Purposes = purposes,
            LawfulBases = lawfulBases,
            StatutoryGateways = gateways,
            DataCategories = categories,
            SensitiveConditions = conditions,
            Ceiling = ceiling,
            ConditionsAccepted = conditionsAccepted.Value,
            NeedsApproval = needsApproval,
            WithheldFields = withheld,
            RetentionDays = retentionDays is > 0 ? retentionDays : null,
            OnwardSharing = onwardSharing.Value,
            Clauses = clauses,
        };
        agreements.Add(id, agreement);
    }

    private static bool Declare(MappingReader r, Dictionary<string, (string File, int Line)> ids, string id, string what)
    {
        if (ids.TryGetValue(id, out var first))
        {
            r.Problem(r.LineOf("id"), $"duplicate {what} id '{id}' (first defined at {first.File}:{first.Line})");
            return false;
        }

        ids.Add(id, (r.File, r.LineOf("id")));
        return true;
    }

    private static string? OneOf(MappingReader r, string key, IReadOnlyList<string> vocabulary, string what, string hint = "")
    {
        var value = r.Text(key, required: true);
        if (value is null)
        {
            return null;
        }

        if (vocabulary.Contains(value, StringComparer.Ordinal))
        {
            return value;
        }

        r.Problem(r.LineOf(key), $"unknown {what} '{value}'{hint}");
        return null;
    }

    private static string[]? ListOf(MappingReader r, string key, IReadOnlyList<string> vocabulary, string what, bool required)
    {
        var items = r.TextList(key, required, nonEmpty: required);
        if (items is null)
        {
            return null;
        }

        var values = new List<string>(items.Count);
        foreach (var item in items)
        {
            if (!vocabulary.Contains(item.Value, StringComparer.Ordinal))
            {
                r.Problem(item.Line, $"unknown {what} '{item.Value}'");
            }
            else if (values.Contains(item.Value, StringComparer.Ordinal))
            {
                r.Problem(item.Line, $"{what} '{item.Value}' is listed twice");
            }
            else
            {
                values.Add(item.Value);
            }
        }

        return [.. values];
    }

    private string[]? Parties(MappingReader r, string file, string key)
    {
        var items = r.TextList(key, required: true, nonEmpty: true);
        if (items is null)
        {
            return null;
        }

        var values = new List<string>(items.Count);
        foreach (var item in items)
        {
            if (values.Contains(item.Value, StringComparer.Ordinal))
            {
                r.Problem(item.Line, $"partner '{item.Value}' is listed twice in '{key}'");
                continue;
            }

            values.Add(item.Value);
            partyReferences.Add((file, item));
        }

        return [.. values];
    }

    private static Dictionary<string, string>? Clauses(MappingReader r)
    {
        var clauses = r.Mapping("clauses", required: true, AgreementRules.All);
        if (clauses is null)
        {
            return null;
        }

        var map = new Dictionary<string, string>(StringComparer.Ordinal);
        var complete = true;
        foreach (var rule in AgreementRules.All)
        {
            if (!clauses.Has(rule))
            {
                clauses.Problem(r.LineOf("clauses"), $"missing clause reference for rule '{rule}'");
                complete = false;
                continue;
            }

            var clause = clauses.Text(rule, required: true);
            if (clause is null)
            {
                complete = false;
                continue;
            }

            map[rule] = clause;
        }

        return complete ? map : null;
    }
}
