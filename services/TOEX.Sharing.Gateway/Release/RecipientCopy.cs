using System.Text.Json.Nodes;
using TOEX.Sharing.Contracts;

namespace TOEX.Sharing.Gateway.Release;

/// <summary>
/// Makes a recipient's copy of a package from the obligations of its decision: withheld fields removed
/// (not blanked), conditions attached, retention and onward sharing marked. The copy is a new derivative
/// linked to the original by package id; it never names the other recipients.
/// </summary>
public static class RecipientCopy
{
    public const string Kind = "package";

    public static JsonObject Build(Guid packageId, string packageJson, RecipientDecision decision, string policyVersion,
        DateTimeOffset releasedAt)
    {
        var package = JsonNode.Parse(packageJson)!.AsObject();
        package.Remove("recipients");

        var withheld = new List<string>();
        var conditions = new List<string>();
        DateOnly? retainUntil = null;
        var acknowledge = false;
        var noOnwardSharing = false;
        foreach (var obligation in decision.Obligations)
        {
            switch (obligation.Type)
            {
                case "sanitise":
                    foreach (var field in obligation.Fields ?? [])
                    {
                        Remove(package, field);
                        withheld.Add(field);
                    }
                    break;
                case "attach-conditions":
                    conditions.AddRange(obligation.Conditions ?? []);
                    break;
                case "acknowledge":
                    acknowledge = true;
                    break;
                case "retain-until":
                    retainUntil = obligation.Date;
                    break;
                case "no-onward-sharing":
                    noOnwardSharing = true;
                    break;
                default:
                    // An obligation this gateway does not know how to honour: release nothing.
                    throw new InvalidOperationException($"Unknown obligation '{obligation.Type}'.");
            }
        }

        var copy = new JsonObject
        {
            ["kind"] = Kind,
            ["packageId"] = packageId.ToString(),
            ["recipient"] = decision.Recipient,
            ["agreement"] = decision.Agreement,
            ["policyVersion"] = policyVersion,
            ["releasedAt"] = releasedAt.ToString("O"),
            ["handlingConditions"] = new JsonArray([.. conditions.Select(c => JsonValue.Create(c))]),
            ["acknowledgementRequired"] = acknowledge,
            ["retainUntil"] = retainUntil?.ToString("yyyy-MM-dd"),
            ["noOnwardSharing"] = noOnwardSharing,
            ["withheldFields"] = new JsonArray([.. withheld.Select(f => JsonValue.Create(f))]),
            ["package"] = package,
        };
        if (retainUntil is null)
        {
            copy.Remove("retainUntil");
        }
        return copy;
    }

    /// <summary>Removes a field by path: <c>name</c> at the top, or <c>list.name</c> from every object of a list.</summary>
    private static void Remove(JsonObject package, string path)
    {
        var dot = path.IndexOf('.', StringComparison.Ordinal);
        if (dot < 0)
        {
            package.Remove(path);
            return;
        }
        if (package[path[..dot]] is JsonArray items)
        {
            foreach (var item in items.OfType<JsonObject>())
            {
                item.Remove(path[(dot + 1)..]);
            }
        }
    }
}
