using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace TOEX.Sharing.Sealing;

/// <summary>
/// How a subject's name, date of birth and identifiers are written before they are blind-indexed, so that the
/// same person written two ways gets the same index:
/// <list type="bullet">
/// <item>Name: lower-cased; Latin letters with diacritics and full-width letters folded as Unicode's compatibility
/// decomposition (NFKD) without combining marks writes them (é → e, Ｊ → j; table in SubjectNormaliser.Folding.cs),
/// letters that do not decompose spelt out (ß → ss, æ → ae, œ → oe, ø → o, ł → l, đ → d, þ → th); combining marks
/// dropped (a decomposed é is e too); apostrophes and full stops removed (O'Brien → obrien, St. John → st john);
/// every other run of non-letters and non-digits (hyphens, commas, spaces, tabs) one space; trimmed.</item>
/// <item>Date of birth: ISO 8601 <c>yyyy-MM-dd</c>.</item>
/// <item>PNC ID: spaces removed, upper case, <c>YY/NNNNNNNC</c> or <c>YYYY/NNNNNNNC</c> (year, serial of up to
/// seven digits, check letter); written with the year's last two digits and the serial without leading zeros
/// (2010/0123456X → 10/123456X).</item>
/// <item>Any other identifier: its name lower-cased, its value with whitespace removed, upper case.</item>
/// </list>
/// </summary>
public static partial class SubjectNormaliser
{
    private static readonly Dictionary<char, string> Folding = FoldingTable.Split('|', StringSplitOptions.RemoveEmptyEntries)
        .ToDictionary(entry => entry[0], entry => entry[1..]);

    /// <summary>The name as indexed; empty when it holds no letter or digit.</summary>
    public static string Name(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        var text = new StringBuilder(name.Length);
        var space = false;
        foreach (var c in name.ToLowerInvariant())
        {
            var category = CharUnicodeInfo.GetUnicodeCategory(c);
            if (category is UnicodeCategory.NonSpacingMark or UnicodeCategory.SpacingCombiningMark or UnicodeCategory.EnclosingMark
                || c is '\'' or '’' or '‘' or 'ʼ' or '`' or '.')
            {
                continue;
            }
            if (char.IsLetterOrDigit(c))
            {
                if (space && text.Length > 0)
                {
                    text.Append(' ');
                }
                space = false;
                if (Folding.TryGetValue(c, out var folded))
                {
                    text.Append(folded);
                }
                else
                {
                    text.Append(c);
                }
            }
            else
            {
                space = true;
            }
        }
        return text.ToString();
    }

    public static string DateOfBirth(DateOnly date) => date.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);

    /// <summary>The PNC ID as indexed, or null when it is not one.</summary>
    public static string? Pnc(string pnc)
    {
        ArgumentNullException.ThrowIfNull(pnc);
        var match = PncPattern().Match(WhiteSpace().Replace(pnc, "").ToUpperInvariant());
        if (!match.Success)
        {
            return null;
        }
        var year = match.Groups["year"].Value;
        var serial = match.Groups["serial"].Value.TrimStart('0');
        return $"{year[^2..]}/{(serial.Length == 0 ? "0" : serial)}{match.Groups["check"].Value}";
    }

    /// <summary>Any identifier's value as indexed (a PNC ID that is not well formed is indexed this way too).</summary>
    public static string Identifier(string value)
    {
        ArgumentNullException.ThrowIfNull(value);
        return WhiteSpace().Replace(value, "").ToUpperInvariant();
    }

    [GeneratedRegex(@"^(?<year>\d{2}|\d{4})/(?<serial>\d{1,7})(?<check>[A-Z])$", RegexOptions.CultureInvariant)]
    private static partial Regex PncPattern();

    [GeneratedRegex(@"\s+", RegexOptions.CultureInvariant)]
    private static partial Regex WhiteSpace();
}
