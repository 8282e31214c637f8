using System.Buffers;
using System.Text.Json;
using Microsoft.AspNetCore.Http.HttpResults;

using TOEX.Sharing.ServiceDefaults;

namespace TOEX.Sharing.Gateway.Apis;

/// <summary>
/// Reads a JSON request body within a size limit: a declared length over the limit is refused before a
/// byte is read, an undeclared one is read only up to the limit. The body is I-JSON (RFC 7493): UTF-8 (a
/// <c>charset</c> other than UTF-8 is refused with 415), no object with a member name twice, since one parser
/// would decide on the last value and another, downstream, read the first, and no string that is not Unicode text
/// (lone surrogates, noncharacters) or holds U+0000.
/// </summary>
public static class JsonBody
{
    public const long MaxBytes = 1024 * 1024;

    public static async Task<(JsonDocument? Document, IResult? Problem)> ReadAsync(HttpRequest request, CancellationToken cancellationToken)
    {
        if (UnsupportedMediaType(request.ContentType) is { } unsupported)
        {
            return (null, Problems.Status(StatusCodes.Status415UnsupportedMediaType, "unsupported-media-type", unsupported));
        }
        if (request.ContentLength > MaxBytes)
        {
            return (null, TooLarge());
        }

        var buffer = ArrayPool<byte>.Shared.Rent((int)Math.Min(request.ContentLength ?? 64 * 1024, MaxBytes) + 1);
        try
        {
            var length = 0;
            while (true)
            {
                if (length == buffer.Length)
                {
                    if (length > MaxBytes)
                    {
                        return (null, TooLarge());
                    }
                    var larger = ArrayPool<byte>.Shared.Rent((int)Math.Min((long)buffer.Length * 2, MaxBytes + 1));
                    buffer.AsSpan(0, length).CopyTo(larger);
                    ArrayPool<byte>.Shared.Return(buffer);
                    buffer = larger;
                }
                var read = await request.Body.ReadAsync(buffer.AsMemory(length, buffer.Length - length), cancellationToken);
                if (read == 0)
                {
                    break;
                }
                length += read;
                if (length > MaxBytes)
                {
                    return (null, TooLarge());
                }
            }

            try
            {
                // The document keeps the memory it parses: give it its own copy, not the pooled buffer.
                var document = JsonDocument.Parse(buffer.AsSpan(0, length).ToArray(), new JsonDocumentOptions { MaxDepth = 32 });
                if (Violation(document.RootElement, "") is { } violation)
                {
                    document.Dispose();
                    return (null, Problems.Validation(new Dictionary<string, string[]> { [violation.Path] = [violation.Problem] }));
                }
                return (document, null);
            }
            catch (JsonException e)
            {
                var where = e.LineNumber is { } line ? $" at line {line + 1}, position {e.BytePositionInLine + 1}" : "";
                return (null, Problems.Validation(new Dictionary<string, string[]> { ["$"] = [$"Malformed JSON{where}."] }));
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>
    /// The first place the document is not I-JSON, with why (null: none): a member name its object already has
    /// (<c>classification</c>, <c>subjects[0].name</c>), or a name or string that is not Unicode text (a lone surrogate, a
    /// noncharacter: RFC 7493 §2.1) or holds U+0000, which no store keeps (PostgreSQL refuses it in text).
    /// </summary>
    public static (string Path, string Problem)? Violation(JsonElement element, string path)
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.Object:
                var names = new HashSet<string>(StringComparer.Ordinal);
                foreach (var member in element.EnumerateObject())
                {
                    string name;
                    try
                    {
                        name = member.Name;
                    }
                    catch (InvalidOperationException)
                    {
                        return (path.Length == 0 ? "$" : path, "A member name is not Unicode text (a lone surrogate).");
                    }
                    var at = path.Length == 0 ? name : $"{path}.{name}";
                    if (NotText(name) is { } badName)
                    {
                        return (at, "The member name " + badName);
                    }
                    if (!names.Add(name))
                    {
                        return (at, "Appears more than once in its object: each member name must be unique (I-JSON, RFC 7493).");
                    }
                    if (Violation(member.Value, at) is { } inner)
                    {
                        return inner;
                    }
                }
                return null;
            case JsonValueKind.Array:
                var index = 0;
                foreach (var item in element.EnumerateArray())
                {
                    if (Violation(item, $"{(path.Length == 0 ? "$" : path)}[{index++}]") is { } inner)
                    {
                        return inner;
                    }
                }
                return null;
            case JsonValueKind.String:
                string text;
                try
                {
                    text = element.GetString()!;
                }
                catch (InvalidOperationException)
                {
                    return (path.Length == 0 ? "$" : path, "Is not Unicode text (a lone surrogate).");
                }
                return NotText(text) is { } bad ? (path.Length == 0 ? "$" : path, "The value " + bad) : null;
            default:
                return null;
        }
    }

    /// <summary>Why <paramref name="text"/> is not storable Unicode text (the rest of a sentence), or null.</summary>
    private static string? NotText(string text)
    {
        var span = text.AsSpan();
        while (!span.IsEmpty)
        {
            if (System.Text.Rune.DecodeFromUtf16(span, out var rune, out var used) != OperationStatus.Done)
            {
                return "is not Unicode text (a lone surrogate).";
            }
            if (rune.Value == 0)
            {
                return "holds U+0000 (NUL), which is not kept.";
            }
            if (rune.Value is >= 0xFDD0 and <= 0xFDEF || (rune.Value & 0xFFFE) == 0xFFFE)
            {
                return $"holds the noncharacter U+{rune.Value:X4} (I-JSON, RFC 7493).";
            }
            span = span[used..];
        }
        return null;
    }

    private static ProblemHttpResult TooLarge() => Problems.Status(StatusCodes.Status413PayloadTooLarge, "payload-too-large",
        "The body is larger than 1 MiB.");

    /// <summary>Why a body of <paramref name="contentType"/> is not read (null: JSON, in UTF-8).</summary>
    private static string? UnsupportedMediaType(string? contentType)
    {
        if (contentType is null || !Microsoft.Net.Http.Headers.MediaTypeHeaderValue.TryParse(contentType, out var media)
            || !(string.Equals(media.MediaType.Value, "application/json", StringComparison.OrdinalIgnoreCase)
                || (media.MediaType.Value?.EndsWith("+json", StringComparison.OrdinalIgnoreCase) ?? false)))
        {
            return "The body must be JSON (Content-Type: application/json).";
        }
        return !media.Charset.HasValue || media.Charset.Equals("utf-8", StringComparison.OrdinalIgnoreCase)
            || media.Charset.Equals("utf8", StringComparison.OrdinalIgnoreCase)
            ? null
            : "The body must be UTF-8 JSON: send charset=utf-8, or no charset.";
    }
}
