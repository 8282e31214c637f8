using System.Buffers;
using System.Text.Json;
using Microsoft.AspNetCore.Http.HttpResults;

using TOEX.Sharing.ServiceDefaults;

namespace TOEX.Sharing.Gateway.Apis;

/// <summary>
/// Reads a JSON request body within a size limit: a declared length over the limit is refused before a
/// byte is read, an undeclared one is read only up to the limit.
/// </summary>
public static class JsonBody
{
    public const long MaxBytes = 1024 * 1024;

    public static async Task<(JsonDocument? Document, IResult? Problem)> ReadAsync(HttpRequest request, CancellationToken cancellationToken)
    {
        if (!IsJson(request.ContentType))
        {
            return (null, Problems.Status(StatusCodes.Status415UnsupportedMediaType, "unsupported-media-type",
                "The body must be JSON (Content-Type: application/json)."));
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
                return (JsonDocument.Parse(buffer.AsSpan(0, length).ToArray(), new JsonDocumentOptions { MaxDepth = 32 }), null);
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

    private static ProblemHttpResult TooLarge() => Problems.Status(StatusCodes.Status413PayloadTooLarge, "payload-too-large",
        "The body is larger than 1 MiB.");

    private static bool IsJson(string? contentType)
    {
        if (contentType is null || !Microsoft.Net.Http.Headers.MediaTypeHeaderValue.TryParse(contentType, out var media))
        {
            return false;
        }
        var type = media.MediaType.Value;
        return string.Equals(type, "application/json", StringComparison.OrdinalIgnoreCase)
            || (type?.EndsWith("+json", StringComparison.OrdinalIgnoreCase) ?? false);
    }
}
