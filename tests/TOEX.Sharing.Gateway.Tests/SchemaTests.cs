using System.Text.Json;
using System.Text.Json.Nodes;
using TOEX.Sharing.Gateway.Validation;
using TOEX.Sharing.Testing;

namespace TOEX.Sharing.Gateway.Tests;

/// <summary>
/// The published JSON Schema (contracts/schemas/intelligence-package.v1.json), checked with Ajv, and the
/// gateway's validator agree on what a valid package is.
/// </summary>
public sealed class SchemaTests
{
    private static readonly string Schema = Path.Combine(RepoPaths.Root, "contracts", "schemas", "intelligence-package.v1.json");

    private static IEnumerable<(string Name, JsonObject Document, bool Valid)> Cases()
    {
        foreach (var file in Directory.EnumerateFiles(Path.Combine(RepoPaths.Root, "deploy", "samples"), "*.json").Order(StringComparer.Ordinal))
        {
            yield return (Path.GetFileName(file), JsonNode.Parse(File.ReadAllText(file))!.AsObject(), true);
        }
        yield return ("unknown field", With(p => p["colour"] = "blue"), false);
        yield return ("unknown classification", With(p => p["classification"] = "RESTRICTED"), false);
        yield return ("C without conditions", With(p => p["handlingConditions"] = new JsonArray()), false);
        yield return ("C with conditions absent", With(p => p.Remove("handlingConditions")), false);
        yield return ("P with conditions", With(p => p["handlingCode"] = "P"), false);
        yield return ("P without conditions", With(p => { p["handlingCode"] = "P"; p.Remove("handlingConditions"); }), true);
        yield return ("malformed review date", With(p => p["reviewDate"] = "25/11/2027"), false);
        yield return ("no recipients", With(p => p["recipients"] = new JsonArray()), false);
        yield return ("duplicate recipients", With(p => p["recipients"] = new JsonArray("wmp", "wmp")), false);
        yield return ("unknown subject role", With(p => p["subjects"]![0]!["role"] = "bystander"), false);
        yield return ("unknown subject field", With(p => p["subjects"]![0]!["nickname"] = "J"), false);
        yield return ("MoRiLE without assessor", With(p => p["moRiLE"]!.AsObject().Remove("assessedBy")), false);
        yield return ("missing summary", With(p => p.Remove("summary")), false);
        yield return ("unknown data category", With(p => p["dataCategories"] = new JsonArray("personal", "gossip")), false);
        yield return ("null sensitive condition", With(p => p["sensitiveCondition"] = null), true);
        yield return ("source evaluation as a number", With(p => p["sourceEvaluation"] = 2), false);
    }

    private static JsonObject With(Action<JsonObject> change)
    {
        var package = Packages.Example();
        change(package);
        return package;
    }

    [Fact]
    public async Task The_schema_and_the_gateway_validator_agree()
    {
        var cases = Cases().ToList();
        var documents = new JsonArray([.. cases.Select(c => (JsonNode)c.Document.DeepClone())]);

        var (exitCode, output, error) = await NodeInterop.RunScriptAsync("validate-schema.mjs", [Schema], documents.ToJsonString());

        Assert.True(exitCode == 0, $"validate-schema.mjs exited {exitCode}: {error}");
        var bySchema = JsonSerializer.Deserialize<bool[]>(output)!;
        for (var i = 0; i < cases.Count; i++)
        {
            using var document = JsonDocument.Parse(cases[i].Document.ToJsonString());
            // A JSON schema cannot say "not after today" (a subject's date of birth): the gateway's own tests check that rule.
            var byGateway = PackageValidator.Validate(document.RootElement, DateOnly.MaxValue).Count == 0;
            Assert.True(cases[i].Valid == bySchema[i], $"{cases[i].Name}: the schema says {(bySchema[i] ? "valid" : "invalid")}");
            Assert.True(cases[i].Valid == byGateway, $"{cases[i].Name}: the gateway says {(byGateway ? "valid" : "invalid")}");
        }
    }
}
