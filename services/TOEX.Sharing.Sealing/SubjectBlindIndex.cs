using System.Security.Cryptography;
using System.Text;
using TOEX.Sharing.Contracts;

namespace TOEX.Sharing.Sealing;

/// <summary>
/// Keyed blind indexes of the people a package is about: HMAC-SHA-256 under a secret key of the
/// <see cref="SubjectNormaliser">normalised</see> name with date of birth, name alone, PNC ID and other
/// identifiers. The gateway puts only these on the bus; the audit worker stores them so an IG officer can find
/// every disclosure about a person, while neither the bus nor the ledger holds a name, date of birth or
/// identifier, and nobody without the key can test a guess against them.
/// Each index is <c>&lt;kind&gt;.&lt;base64url HMAC&gt;</c>; kinds: <c>nd</c> name and date of birth, <c>n</c> name,
/// <c>pnc</c> PNC ID, <c>id</c> any other identifier (its name is inside the MAC).
/// </summary>
public sealed class SubjectBlindIndex
{
    private const int KeyBytes = 32;
    private readonly byte[]? _key;
    private readonly ISignatureSource? _mac;

    public SubjectBlindIndex(byte[] key)
    {
        ArgumentNullException.ThrowIfNull(key);
        if (key.Length < KeyBytes)
        {
            throw new SealException($"A blind-index key has at least {KeyBytes} bytes; this one has {key.Length}.");
        }
        _key = [.. key];
    }

    /// <summary>Blind indexes under a key kept elsewhere (a PKCS#11 token): <paramref name="mac"/> computes HMAC-SHA-256 with it.</summary>
    public SubjectBlindIndex(ISignatureSource mac)
    {
        ArgumentNullException.ThrowIfNull(mac);
        _mac = mac;
    }

    /// <summary>
    /// The key in <paramref name="path"/> (base64url, one line). When the file does not exist and
    /// <paramref name="create"/> is true, a new random key is written there (readable by its owner only); two
    /// processes creating it at once end up with the same key.
    /// </summary>
    public static SubjectBlindIndex Open(string path, bool create)
    {
        if (!File.Exists(path))
        {
            if (!create)
            {
                throw new SealException($"The blind-index key file {path} does not exist.");
            }
            SecureFiles.CreatePrivateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
            SecureFiles.WriteAtomically(path, Base64Url(RandomNumberGenerator.GetBytes(KeyBytes)) + "\n", isPrivate: true, overwrite: false);
        }
        try
        {
            return new SubjectBlindIndex(FromBase64Url(File.ReadAllText(path).Trim()));
        }
        catch (FormatException)
        {
            throw new SealException($"The blind-index key file {path} does not hold a base64url key.");
        }
    }

    public string NameAndDateOfBirth(string name, DateOnly dateOfBirth) =>
        Index("nd", $"{SubjectNormaliser.Name(name)}\n{SubjectNormaliser.DateOfBirth(dateOfBirth)}");

    public string Name(string name) => Index("n", SubjectNormaliser.Name(name));

    /// <summary>The index of a well-formed PNC ID, or null.</summary>
    public string? Pnc(string pnc) => SubjectNormaliser.Pnc(pnc) is { } normal ? Index("pnc", normal) : null;

    /// <summary>The indexes of one subject: name (and with date of birth), and each identifier.</summary>
    public IEnumerable<string> Of(Subject subject)
    {
        ArgumentNullException.ThrowIfNull(subject);
        if (SubjectNormaliser.Name(subject.Name).Length > 0)
        {
            yield return Name(subject.Name);
            if (subject.DateOfBirth is { } born)
            {
                yield return NameAndDateOfBirth(subject.Name, born);
            }
        }
        foreach (var (type, value) in subject.Identifiers ?? new Dictionary<string, string>())
        {
            var kind = type.Trim().ToLowerInvariant();
            yield return kind == "pnc" && Pnc(value) is { } pnc
                ? pnc
                : Index("id", $"{kind}\n{SubjectNormaliser.Identifier(value)}");
        }
    }

    /// <summary>Every distinct index of <paramref name="subjects"/>, sorted (the order says nothing about who is who).</summary>
    public IReadOnlyList<string> Of(IEnumerable<Subject> subjects) =>
        [.. subjects.SelectMany(Of).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal)];

    private string Index(string kind, string normalised)
    {
        var message = Encoding.UTF8.GetBytes($"toex-subject/1\n{kind}\n{normalised}");
        return $"{kind}.{Base64Url(_key is not null ? HMACSHA256.HashData(_key, message) : _mac!.Sign(message))}";
    }

    private static string Base64Url(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    private static byte[] FromBase64Url(string text)
    {
        var base64 = text.Replace('-', '+').Replace('_', '/');
        return Convert.FromBase64String(base64.PadRight(base64.Length + ((4 - (base64.Length % 4)) % 4), '='));
    }
}
