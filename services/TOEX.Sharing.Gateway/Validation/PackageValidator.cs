using System.Globalization;
using System.Text.Json;
using TOEX.Sharing.Contracts;

namespace TOEX.Sharing.Gateway.Validation;

/// <summary>
/// Validates a package (wire format v1) as JSON, before anything binds it, so every bad field is named:
/// unknown fields and enum values, conditions against the handling code, malformed dates, a subject born after today,
/// recipients.
/// </summary>
public static class PackageValidator
{
    public const int MaxRecipients = 64;
    public const int MaxSubjects = 500;
    private const int MaxShortText = 200;
    private const int MaxSummary = 4_000;

    private static readonly HashSet<string> KnownFields =
    [
        "reference", "originator", "classification", "handlingCode", "handlingConditions", "sourceEvaluation",
        "intelligenceAssessment", "purpose", "lawfulBasis", "statutoryGateways", "dataCategories",
        "sensitiveCondition", "originatorConsentRequired", "subjects", "summary", "body", "sourceDetails",
        "moRiLE", "reviewDate", "recipients",
    ];

    private static readonly HashSet<string> SubjectFields = ["role", "name", "dateOfBirth", "identifiers"];
    private static readonly HashSet<string> MoRiLEFields = ["score", "confidence", "assessedBy", "assessedOn"];

    /// <summary>
    /// Every problem, keyed by field path (e.g. <c>subjects[0].dateOfBirth</c>); empty when valid. <paramref name="today"/>
    /// is the gateway's date (its TimeProvider's, UTC, as the decision date): no subject is born after it.
    /// </summary>
    public static Dictionary<string, string[]> Validate(JsonElement root, DateOnly today)
    {
        var errors = new Errors();
        if (root.ValueKind != JsonValueKind.Object)
        {
            errors.Add("$", "The package must be a JSON object.");
            return errors.ToDictionary();
        }

        foreach (var property in root.EnumerateObject())
        {
            if (!KnownFields.Contains(property.Name))
            {
                errors.Add(property.Name, "Unknown field.");
            }
        }

        Identifier(RequiredText(root, "reference", errors, MaxShortText), "reference", errors);
        Identifier(RequiredText(root, "originator", errors, MaxShortText), "originator", errors);
        RequiredEnum(root, "classification", Vocabulary.Classifications, errors);
        var handlingCode = RequiredEnum(root, "handlingCode", Vocabulary.HandlingCodes, errors);
        RequiredEnum(root, "sourceEvaluation", Vocabulary.SourceEvaluations, errors);
        RequiredEnum(root, "intelligenceAssessment", Vocabulary.IntelligenceAssessments, errors);
        RequiredEnum(root, "purpose", Vocabulary.Purposes, errors);
        RequiredEnum(root, "lawfulBasis", Vocabulary.LawfulBases, errors);
        RequiredText(root, "summary", errors, MaxSummary);
        OptionalText(root, "body", errors);
        OptionalText(root, "sourceDetails", errors);
        OptionalDate(root, "reviewDate", errors);

        var conditions = OptionalTextList(root, "handlingConditions", errors);
        if (handlingCode == "C" && conditions == 0)
        {
            errors.Add("handlingConditions", "Handling code C needs at least one handling condition.");
        }
        else if (handlingCode == "P" && conditions > 0)
        {
            errors.Add("handlingConditions", "Handling code P takes no handling conditions.");
        }

        EnumList(root, "statutoryGateways", Vocabulary.StatutoryGateways, errors, required: false);
        EnumList(root, "dataCategories", Vocabulary.DataCategories, errors, required: true);

        if (root.TryGetProperty("sensitiveCondition", out var sensitive) && sensitive.ValueKind != JsonValueKind.Null)
        {
            Enum(sensitive, "sensitiveCondition", Vocabulary.SensitiveConditions, errors);
        }
        if (root.TryGetProperty("originatorConsentRequired", out var consent)
            && consent.ValueKind is not (JsonValueKind.True or JsonValueKind.False or JsonValueKind.Null))
        {
            errors.Add("originatorConsentRequired", "Must be true or false.");
        }

        Subjects(root, today, errors);
        MoRiLE(root, errors);
        Recipients(root, errors);
        return errors.ToDictionary();
    }

    private static void Recipients(JsonElement root, Errors errors)
    {
        if (!root.TryGetProperty("recipients", out var recipients) || recipients.ValueKind == JsonValueKind.Null)
        {
            errors.Add("recipients", "At least one recipient is required.");
            return;
        }
        if (recipients.ValueKind != JsonValueKind.Array)
        {
            errors.Add("recipients", "Must be an array of partner ids.");
            return;
        }
        if (recipients.GetArrayLength() == 0)
        {
            errors.Add("recipients", "At least one recipient is required.");
            return;
        }
        if (recipients.GetArrayLength() > MaxRecipients)
        {
            errors.Add("recipients", $"At most {MaxRecipients} recipients.");
            return;
        }
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var i = 0;
        foreach (var recipient in recipients.EnumerateArray())
        {
            var path = $"recipients[{i++}]";
            if (recipient.ValueKind != JsonValueKind.String || string.IsNullOrWhiteSpace(recipient.GetString()))
            {
                errors.Add(path, "Must be a partner id.");
            }
            else if (recipient.GetString()!.Length > MaxShortText)
            {
                errors.Add(path, $"At most {MaxShortText} characters.");
            }
            else if (Identifier(recipient.GetString(), path, errors) && !seen.Add(recipient.GetString()!))
            {
                errors.Add(path, $"Duplicate recipient '{recipient.GetString()}'.");
            }
        }
    }

    private static void Subjects(JsonElement root, DateOnly today, Errors errors)
    {
        if (!root.TryGetProperty("subjects", out var subjects) || subjects.ValueKind == JsonValueKind.Null)
        {
            return;
        }
        if (subjects.ValueKind != JsonValueKind.Array)
        {
            errors.Add("subjects", "Must be an array of subjects.");
            return;
        }
        if (subjects.GetArrayLength() > MaxSubjects)
        {
            errors.Add("subjects", $"At most {MaxSubjects} subjects.");
            return;
        }
        var i = 0;
        foreach (var subject in subjects.EnumerateArray())
        {
            var path = $"subjects[{i++}]";
            if (subject.ValueKind != JsonValueKind.Object)
            {
                errors.Add(path, "Must be an object.");
                continue;
            }
            foreach (var property in subject.EnumerateObject())
            {
                if (!SubjectFields.Contains(property.Name))
                {
                    errors.Add($"{path}.{property.Name}", "Unknown field.");
                }
            }
            RequiredEnum(subject, "role", Vocabulary.SubjectRoles, errors, path);
            RequiredText(subject, "name", errors, MaxShortText, path);
            if (OptionalDate(subject, "dateOfBirth", errors, path) is { } born && born > today)
            {
                errors.Add($"{path}.dateOfBirth", $"A date of birth cannot be after today ({today:yyyy-MM-dd}, UTC).");
            }
            if (subject.TryGetProperty("identifiers", out var identifiers) && identifiers.ValueKind != JsonValueKind.Null)
            {
                if (identifiers.ValueKind != JsonValueKind.Object)
                {
                    errors.Add($"{path}.identifiers", "Must be an object of identifier names to values.");
                    continue;
                }
                foreach (var identifier in identifiers.EnumerateObject())
                {
                    if (identifier.Value.ValueKind != JsonValueKind.String || string.IsNullOrWhiteSpace(identifier.Value.GetString()))
                    {
                        errors.Add($"{path}.identifiers.{identifier.Name}", "Must be a non-empty string.");
                    }
                }
            }
        }
    }

    private static void MoRiLE(JsonElement root, Errors errors)
    {
        if (!root.TryGetProperty("moRiLE", out var morile) || morile.ValueKind == JsonValueKind.Null)
        {
            return;
        }
        if (morile.ValueKind != JsonValueKind.Object)
        {
            errors.Add("moRiLE", "Must be an object.");
            return;
        }
        foreach (var property in morile.EnumerateObject())
        {
            if (!MoRiLEFields.Contains(property.Name))
            {
                errors.Add($"moRiLE.{property.Name}", "Unknown field.");
            }
        }
        if (!morile.TryGetProperty("score", out var score) || score.ValueKind != JsonValueKind.Number
            || !score.TryGetInt32(out var value) || value < 0)
        {
            errors.Add("moRiLE.score", "Must be a non-negative whole number.");
        }
        RequiredEnum(morile, "confidence", Vocabulary.MoRiLEConfidences, errors, "moRiLE");
        RequiredText(morile, "assessedBy", errors, MaxShortText, "moRiLE");
        if (!morile.TryGetProperty("assessedOn", out _))
        {
            errors.Add("moRiLE.assessedOn", "Required.");
        }
        else
        {
            OptionalDate(morile, "assessedOn", errors, "moRiLE");
        }
    }

    private static string? RequiredText(JsonElement obj, string name, Errors errors, int maxLength, string? parent = null)
    {
        var path = parent is null ? name : $"{parent}.{name}";
        if (!obj.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null)
        {
            errors.Add(path, "Required.");
            return null;
        }
        if (value.ValueKind != JsonValueKind.String || string.IsNullOrWhiteSpace(value.GetString()))
        {
            errors.Add(path, "Must be a non-empty string.");
            return null;
        }
        var text = value.GetString()!;
        if (text.Length > maxLength)
        {
            errors.Add(path, $"At most {maxLength} characters.");
            return null;
        }
        return text;
    }

    /// <summary>
    /// An id (reference, originator, partner) holds no control character and no bidirectional formatting character: it
    /// must compare as it reads (an override can make one reference look like another). Free text may hold them.
    /// </summary>
    private static bool Identifier(string? text, string path, Errors errors)
    {
        if (text is not null && text.Any(c => char.IsControl(c) || c is '\u061C' or '\u200E' or '\u200F' or >= '\u202A' and <= '\u202E' or >= '\u2066' and <= '\u2069'))
        {
            errors.Add(path, "Must not contain control or bidirectional formatting characters.");
            return false;
        }
        return true;
    }

    private static void OptionalText(JsonElement obj, string name, Errors errors)
    {
        if (obj.TryGetProperty(name, out var value) && value.ValueKind is not (JsonValueKind.String or JsonValueKind.Null))
        {
            errors.Add(name, "Must be a string.");
        }
    }

    private static string? RequiredEnum(JsonElement obj, string name, IReadOnlyList<string> allowed, Errors errors, string? parent = null)
    {
        var path = parent is null ? name : $"{parent}.{name}";
        if (!obj.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null)
        {
            errors.Add(path, $"Required: one of {string.Join(", ", allowed)}.");
            return null;
        }
        return Enum(value, path, allowed, errors);
    }

    private static string? Enum(JsonElement value, string path, IReadOnlyList<string> allowed, Errors errors)
    {
        if (value.ValueKind == JsonValueKind.String && allowed.Contains(value.GetString()!))
        {
            return value.GetString();
        }
        errors.Add(path, $"Unknown value {Describe(value)}: expected one of {string.Join(", ", allowed)}.");
        return null;
    }

    private static void EnumList(JsonElement root, string name, IReadOnlyList<string> allowed, Errors errors, bool required)
    {
        if (!root.TryGetProperty(name, out var list) || list.ValueKind == JsonValueKind.Null)
        {
            if (required)
            {
                errors.Add(name, $"Required: a list of {string.Join(", ", allowed)}.");
            }
            return;
        }
        if (list.ValueKind != JsonValueKind.Array)
        {
            errors.Add(name, "Must be an array.");
            return;
        }
        if (required && list.GetArrayLength() == 0)
        {
            errors.Add(name, "At least one value is required.");
        }
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var i = 0;
        foreach (var item in list.EnumerateArray())
        {
            var path = $"{name}[{i++}]";
            var value = Enum(item, path, allowed, errors);
            if (value is not null && !seen.Add(value))
            {
                errors.Add(path, $"Duplicate value '{value}'.");
            }
        }
    }

    private static int OptionalTextList(JsonElement root, string name, Errors errors)
    {
        if (!root.TryGetProperty(name, out var list) || list.ValueKind == JsonValueKind.Null)
        {
            return 0;
        }
        if (list.ValueKind != JsonValueKind.Array)
        {
            errors.Add(name, "Must be an array of strings.");
            return 0;
        }
        var i = 0;
        foreach (var item in list.EnumerateArray())
        {
            if (item.ValueKind != JsonValueKind.String || string.IsNullOrWhiteSpace(item.GetString()))
            {
                errors.Add($"{name}[{i}]", "Must be a non-empty string.");
            }
            i++;
        }
        return i;
    }

    /// <summary>The date, when present and well formed; a malformed one is named in <paramref name="errors"/>.</summary>
    private static DateOnly? OptionalDate(JsonElement obj, string name, Errors errors, string? parent = null)
    {
        var path = parent is null ? name : $"{parent}.{name}";
        if (!obj.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null)
        {
            return null;
        }
        if (value.ValueKind != JsonValueKind.String
            || !DateOnly.TryParseExact(value.GetString(), "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var date))
        {
            errors.Add(path, $"Malformed date {Describe(value)}: expected yyyy-MM-dd.");
            return null;
        }
        return date;
    }

    private static string Describe(JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.String => $"'{Truncate(value.GetString()!)}'",
        _ => value.ValueKind.ToString().ToLowerInvariant(),
    };

    private static string Truncate(string text) => text.Length <= 60 ? text : text[..60] + "…";

    private sealed class Errors
    {
        private readonly Dictionary<string, List<string>> _errors = new(StringComparer.Ordinal);

        public void Add(string field, string message)
        {
            if (!_errors.TryGetValue(field, out var list))
            {
                _errors[field] = list = [];
            }
            list.Add(message);
        }

        public Dictionary<string, string[]> ToDictionary() => _errors.ToDictionary(e => e.Key, e => e.Value.ToArray());
    }
}
