using System.Text;
using System.Text.Json.Nodes;
using TOEX.Sharing.Testing;

namespace TOEX.Sharing.Gateway.Tests;

/// <summary>Sample packages from <c>deploy/samples</c>, as JSON to change in a test.</summary>
public static class Packages
{
    public static JsonObject Example() => Load("rocuwm-2026-000123.json");

    public static JsonObject Load(string file) =>
        JsonNode.Parse(File.ReadAllText(Path.Combine(RepoPaths.Root, "deploy", "samples", file)))!.AsObject();

    public static StringContent Json(JsonNode body) => new(body.ToJsonString(), Encoding.UTF8, "application/json");
}
