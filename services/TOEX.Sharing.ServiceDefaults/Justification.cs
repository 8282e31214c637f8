using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;

namespace TOEX.Sharing.ServiceDefaults;

/// <summary>
/// Why a caller consults personal data (DPA 2018 s62), as it says in the <c>X-Justification</c> header or the
/// <c>justification</c> query parameter: optional, at most <see cref="MaxLength"/> characters, no control
/// characters. Without one, the ledger records the route's default justification, which says that none was given.
/// </summary>
public static class Justification
{
    public const string Header = "X-Justification";
    public const string Parameter = "justification";
    public const int MaxLength = 500;

    /// <summary>The caller's justification, or <paramref name="fallback"/>; a problem naming the field when malformed.</summary>
    public static (string? Value, ValidationProblem? Problem) Read(HttpRequest request, string fallback)
    {
        ArgumentNullException.ThrowIfNull(request);
        var (field, given) = request.Headers.TryGetValue(Header, out var header) && header.Count > 0
            ? (Header, string.Join(", ", header.ToArray()))
            : (Parameter, request.Query.TryGetValue(Parameter, out var query) ? string.Join(", ", query.ToArray()) : null);
        if (given is null)
        {
            return (fallback, null);
        }
        var value = given.Trim();
        if (value.Length == 0 || value.Length > MaxLength || !IsPlainText(value))
        {
            return (null, Problems.Validation(new Dictionary<string, string[]>
            {
                [field] = [$"The justification must be 1 to {MaxLength} characters, without control characters."],
            }));
        }
        return (value, null);
    }

    /// <summary>
    /// Free text a person wrote (a justification, a reason) as the ledger and the console may show it: no control
    /// characters (line breaks included: one line of text) and no bidirectional overrides, which could make a
    /// record read other than it is.
    /// </summary>
    public static bool IsPlainText(string value) => !value.Any(c => char.IsControl(c) || c is >= '\u202A' and <= '\u202E' or >= '\u2066' and <= '\u2069');
}
