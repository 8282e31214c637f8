using System.Buffers.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace TOEX.Sharing.Sealing;

/// <summary>
/// The protected header of a compact JWS or JWE, read before any key is used so that the algorithm,
/// type and key id can be checked against what TOEX allows. Duplicate members are rejected, so this
/// reading and the JOSE library's cannot disagree.
/// </summary>
internal sealed class JoseHeader
{
    private static readonly JsonDocumentOptions StrictJson = new() { AllowDuplicateProperties = false };

    private readonly JsonElement root;
    private readonly string what;

    private JoseHeader(JsonElement root, string what)
    {
        this.root = root;
        this.what = what;
    }

    /// <summary>Reads the header of a compact serialization with <paramref name="parts"/> parts (3 for JWS, 5 for JWE).</summary>
    public static JoseHeader Read(string compact, int parts, string what)
    {
        var found = compact.AsSpan().Count('.') + 1;
        if (found != parts)
        {
            throw new SealException(parts == 5
                ? $"The {what} is not a compact JWE (expected 5 dot-separated parts, found {found})."
                : $"The {what} is not a compact JWS (expected 3 dot-separated parts, found {found}).");
        }

        try
        {
            var bytes = Base64Url.DecodeFromChars(compact.AsSpan(0, compact.IndexOf('.', StringComparison.Ordinal)));
            // The parser does not check the UTF-8 inside strings; reading one later would throw (found by fuzzing).
            if (!System.Text.Unicode.Utf8.IsValid(bytes))
            {
                throw new SealException($"The {what}'s header is not UTF-8 JSON.");
            }
            using var document = JsonDocument.Parse(bytes, StrictJson);
            return document.RootElement.ValueKind == JsonValueKind.Object
                ? new JoseHeader(document.RootElement.Clone(), what)
                : throw new SealException($"The {what}'s header is not a JSON object.");
        }
        catch (Exception exception) when (exception is FormatException or JsonException or InvalidOperationException)
        {
            throw new SealException($"The {what}'s header is not base64url-encoded JSON.");
        }
    }

    public bool Has(string name) => root.TryGetProperty(name, out _);

    public string? Get(string name)
    {
        if (!root.TryGetProperty(name, out var value))
        {
            return null;
        }
        if (value.ValueKind != JsonValueKind.String)
        {
            throw new SealException($"The {what}'s header member '{name}' is not a string.");
        }
        try
        {
            return value.GetString();
        }
        catch (InvalidOperationException)
        {
            // An escaped lone surrogate (found by fuzzing).
            throw new SealException($"The {what}'s header member '{name}' is not Unicode text.");
        }
    }

    /// <summary>A member that is a JSON object (e.g. a JWE's <c>epk</c>), or null when absent.</summary>
    public JsonObject? GetObject(string name) =>
        !root.TryGetProperty(name, out var value) ? null
        : value.ValueKind == JsonValueKind.Object ? JsonObject.Create(value)
        : throw new SealException($"The {what}'s header member '{name}' is not a JSON object.");

    /// <summary>Rejects header members TOEX never produces and that change how a JOSE library processes the object.</summary>
    public void RejectUnsupported(params string[] names)
    {
        foreach (var name in names)
        {
            if (Has(name))
            {
                throw new SealException($"The {what} uses header '{name}', which TOEX does not accept.");
            }
        }
    }
}
