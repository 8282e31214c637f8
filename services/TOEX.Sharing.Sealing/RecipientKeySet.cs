using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;

namespace TOEX.Sharing.Sealing;

/// <summary>Where one key of a partner's registry entry stands at an instant.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<RecipientKeyState>))]
public enum RecipientKeyState
{
    /// <summary>Not revoked, and the instant is within its not-before and expiry: copies may be sealed to it.</summary>
    [JsonStringEnumMemberName("valid")]
    Valid,

    /// <summary>Its not-before (<c>nbf</c>) has not come yet.</summary>
    [JsonStringEnumMemberName("not-yet-valid")]
    NotYetValid,

    /// <summary>Its expiry (<c>exp</c>) has passed.</summary>
    [JsonStringEnumMemberName("expired")]
    Expired,

    /// <summary>Revoked: never used again, and never registered again.</summary>
    [JsonStringEnumMemberName("revoked")]
    Revoked,

    /// <summary>Not a usable encryption key (malformed, a signing key, too weak, a malformed lifetime): never used.</summary>
    [JsonStringEnumMemberName("unusable")]
    Unusable,
}

/// <summary>One key of a partner's registry entry, with its lifetime; <see cref="Key"/> is null when it is unusable.</summary>
public sealed record RecipientKeyEntry
{
    public required string KeyId { get; init; }

    /// <summary>The RFC 7638 thumbprint; null only when the key is too malformed to have one.</summary>
    public string? Thumbprint { get; init; }

    public RecipientKey? Key { get; init; }

    public DateTimeOffset? NotBefore { get; init; }

    public DateTimeOffset? Expires { get; init; }

    /// <summary>When it was revoked (null for a key that is not, or a revocation that does not say when).</summary>
    public DateTimeOffset? RevokedAt { get; init; }

    public bool Revoked { get; init; }

    /// <summary>Why the key cannot be used at all (null when it can).</summary>
    public string? Problem { get; init; }

    /// <summary>"EC P-256", "EC P-384", "RSA 3072"; null when unusable.</summary>
    public string? Type => Key is null ? null : Key.Kind == KeyKind.EC ? $"EC P-{Key.KeySize}" : $"RSA {Key.KeySize}";

    public RecipientKeyState StateAt(DateTimeOffset now) =>
        Revoked ? RecipientKeyState.Revoked
        : Key is null ? RecipientKeyState.Unusable
        : NotBefore is { } notBefore && now < notBefore ? RecipientKeyState.NotYetValid
        : Expires is { } expires && now >= expires ? RecipientKeyState.Expired
        : RecipientKeyState.Valid;

    /// <summary>Why it is not used at <paramref name="now"/>, in one phrase (null when it is valid).</summary>
    public string? WhyNotValid(DateTimeOffset now) => StateAt(now) switch
    {
        RecipientKeyState.Revoked => $"key '{KeyId}' is revoked" + (RevokedAt is { } at ? $" (since {RecipientKeySet.Instant(at)})" : ""),
        RecipientKeyState.Unusable => $"key '{KeyId}' is unusable ({Problem})",
        RecipientKeyState.NotYetValid => $"key '{KeyId}' is not valid before {RecipientKeySet.Instant(NotBefore!.Value)}",
        RecipientKeyState.Expired => $"key '{KeyId}' expired at {RecipientKeySet.Instant(Expires!.Value)}",
        _ => null,
    };
}

/// <summary>
/// A partner's entry in the partner registry (<c>PARTNER.jwks.json</c>): a JWKS whose keys may carry a not-before
/// (<c>nbf</c>) and an expiry (<c>exp</c>), NumericDate members as in RFC 7519 (RFC 7517 §4 lets a JWK carry members
/// it does not define, which other libraries ignore), and a list of revoked keys (<c>revoked</c>, each the public JWK
/// with <c>revoked_at</c>) kept outside <c>keys</c>, so a tool that reads the set as a plain JWKS never sees one:
/// <code>{"keys": [{"kty": "EC", …, "kid": "…", "nbf": 1767225600, "exp": 1798761600}], "revoked": [{"kty": "EC", …, "revoked_at": 1767225600}]}</code>
/// Copies are sealed to the newest valid key: the last in <c>keys</c> (registration order) that is not revoked and
/// whose <c>nbf</c> ≤ now &lt; <c>exp</c>. A key of <c>keys</c> that matches a revoked one (thumbprint or kid) counts
/// as revoked. A malformed key makes that key unusable; a malformed <c>revoked</c> list makes the whole set unusable,
/// since what was revoked could no longer be told. Immutable; changes return the new file's text.
/// </summary>
public sealed partial class RecipientKeySet
{
    public const string NotBeforeMember = "nbf";
    public const string ExpiresMember = "exp";
    public const string RevokedMember = "revoked";
    public const string RevokedAtMember = "revoked_at";

    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };

    private readonly JsonObject root;

    private RecipientKeySet(JsonObject root, IReadOnlyList<RecipientKeyEntry> keys, IReadOnlyList<RecipientKeyEntry> revoked)
    {
        this.root = root;
        Keys = keys;
        Revoked = revoked;
    }

    /// <summary>The keys of <c>keys</c>, in registration order (oldest first), revoked ones marked.</summary>
    public IReadOnlyList<RecipientKeyEntry> Keys { get; }

    /// <summary>The keys of <c>revoked</c>.</summary>
    public IReadOnlyList<RecipientKeyEntry> Revoked { get; }

    /// <summary>A set with no key (a partner not registered yet).</summary>
    public static RecipientKeySet Empty() => new(new JsonObject { ["keys"] = new JsonArray() }, [], []);

    /// <summary>Reads a registry entry (a JWKS, or a single JWK as a set of one).</summary>
    /// <exception cref="SealException">Not JSON, not a key set, or a revoked list that cannot be read.</exception>
    public static RecipientKeySet Parse(string json)
    {
        ArgumentNullException.ThrowIfNull(json);
        const string what = "The key set";
        var root = JsonWebKeys.ParseObject(json, what);
        if (!root.ContainsKey("keys"))
        {
            root = root.ContainsKey("kty")
                ? new JsonObject { ["keys"] = new JsonArray(root.DeepClone()) }
                : throw new SealException($"{what} is neither a JWK set ({{\"keys\":[…]}}) nor a JWK.");
        }

        var revoked = Objects(root, RevokedMember, what).Select((jwk, index) => ReadRevoked(jwk, index)).ToList();
        var keys = new List<RecipientKeyEntry>();
        var index = 0;
        foreach (var jwk in Objects(root, "keys", what))
        {
            var entry = ReadKey(jwk, ++index);
            var revocation = revoked.FirstOrDefault(r => r.Thumbprint == entry.Thumbprint || r.KeyId == entry.KeyId);
            keys.Add(revocation is null ? entry : entry with { Revoked = true, RevokedAt = revocation.RevokedAt });
        }

        return new RecipientKeySet(root, keys, revoked);
    }

    /// <summary>The newest valid key at <paramref name="now"/>, or null.</summary>
    public RecipientKeyEntry? Current(DateTimeOffset now) => Keys.LastOrDefault(k => k.StateAt(now) == RecipientKeyState.Valid);

    /// <summary>The key copies are sealed to at <paramref name="now"/>, or why there is none (every key and why it is not used).</summary>
    public (RecipientKey? Key, string? Problem) Select(DateTimeOffset now)
    {
        if (Current(now) is { Key: { } key })
        {
            return (key, null);
        }

        var all = Keys.Concat(Revoked).ToList();
        return all.Count == 0
            ? (null, "No encryption key is registered for this partner.")
            : (null, "No valid encryption key is registered for this partner: " + string.Join("; ", all.Select(k => k.WhyNotValid(now))) + ".");
    }

    /// <summary>The key of <c>keys</c> or <c>revoked</c> with this kid or thumbprint, if any.</summary>
    public RecipientKeyEntry? Find(string keyIdOrThumbprint) =>
        Keys.Concat(Revoked).FirstOrDefault(k => k.KeyId == keyIdOrThumbprint || k.Thumbprint == keyIdOrThumbprint);

    /// <summary>
    /// Reads the public JWK a partner or an operator offers as a new key: an encryption key by <see cref="RecipientKey"/>'s
    /// rules, with no lifetime members of its own (the lifetime is given beside it). Returns the JWK as it is registered:
    /// public members only, its kid (the thumbprint when it has none) and use <c>enc</c>.
    /// </summary>
    /// <exception cref="SealException">Why the key cannot be registered, in a sentence starting "The key".</exception>
    public static (JsonObject Jwk, RecipientKey Key) ReadNewKey(string jwkJson)
    {
        ArgumentNullException.ThrowIfNull(jwkJson);
        const string what = "The key";
        var jwk = JsonWebKeys.ParseObject(jwkJson, what);
        foreach (var member in new[] { NotBeforeMember, ExpiresMember, RevokedAtMember })
        {
            if (jwk.ContainsKey(member))
            {
                throw new SealException($"{what} carries '{member}': give its lifetime as notBefore and expires beside the key, not in the JWK.");
            }
        }

        var key = RecipientKey.FromJwk(jwk, what);
        if (!KeyIdPattern().IsMatch(key.KeyId))
        {
            throw new SealException($"{what}'s kid must be 1 to 128 letters, digits and '.', '_', ':' or '-' (or absent: its thumbprint is used).");
        }

        var registered = JsonWebKeys.PublicOf(jwk, what);
        registered["kid"] = key.KeyId;
        registered["use"] = "enc";
        return (registered, key);
    }

    /// <summary>Why <paramref name="key"/> cannot be added to this set (null when it can).</summary>
    public string? ConflictOf(RecipientKey key)
    {
        ArgumentNullException.ThrowIfNull(key);
        if (Revoked.Any(r => r.Thumbprint == key.Thumbprint) || Keys.Any(k => k.Revoked && k.Thumbprint == key.Thumbprint))
        {
            return "This key was revoked; a revoked key is never registered again.";
        }

        if (Keys.Any(k => k.Thumbprint == key.Thumbprint))
        {
            return "This key is already registered.";
        }

        return Find(key.KeyId) is not null ? $"Another key of the set already has the kid '{key.KeyId}'." : null;
    }

    /// <summary>The file's text with <paramref name="jwk"/> added as the newest key, with its lifetime.</summary>
    public string WithKey(JsonObject jwk, DateTimeOffset? notBefore, DateTimeOffset? expires)
    {
        ArgumentNullException.ThrowIfNull(jwk);
        var copy = (JsonObject)root.DeepClone();
        var added = (JsonObject)jwk.DeepClone();
        if (notBefore is { } from)
        {
            added[NotBeforeMember] = from.ToUnixTimeSeconds();
        }

        if (expires is { } until)
        {
            added[ExpiresMember] = until.ToUnixTimeSeconds();
        }

        copy["keys"]!.AsArray().Add(added);
        return copy.ToJsonString(Indented);
    }

    /// <summary>The file's text with the key <paramref name="keyId"/> moved from <c>keys</c> to <c>revoked</c>, stamped <paramref name="at"/>.</summary>
    public string WithRevoked(string keyId, DateTimeOffset at)
    {
        var copy = (JsonObject)root.DeepClone();
        var keys = copy["keys"]!.AsArray();
        var moving = Keys.Select((entry, index) => (entry, index)).Where(k => k.entry.KeyId == keyId).Select(k => keys[k.index]!).ToList();
        if (moving.Count == 0)
        {
            throw new SealException($"No key of the set has the kid '{keyId}'.");
        }

        if (copy[RevokedMember] is not JsonArray revoked)
        {
            copy[RevokedMember] = revoked = [];
        }

        foreach (var jwk in moving)
        {
            keys.Remove(jwk);
            jwk.AsObject()[RevokedAtMember] = at.ToUnixTimeSeconds();
            revoked.Add(jwk);
        }

        return copy.ToJsonString(Indented);
    }

    /// <summary>An instant as the registry's reasons write it: ISO-8601 UTC to the second.</summary>
    internal static string Instant(DateTimeOffset at) => at.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);

    private static IEnumerable<JsonObject> Objects(JsonObject root, string member, string what) => root[member] switch
    {
        null when member == RevokedMember => [],
        JsonArray array => array.Select(node => node as JsonObject ?? throw new SealException($"{what}: an entry of '{member}' is not a JSON object.")),
        _ => throw new SealException($"{what}: '{member}' is not an array."),
    };

    private static RecipientKeyEntry ReadKey(JsonObject jwk, int index)
    {
        var what = $"Key {index}";
        string? keyId = null;
        string? thumbprint = null;
        try
        {
            keyId = JsonWebKeys.GetString(jwk, "kid", what);
            thumbprint = JsonWebKeys.Thumbprint(jwk);
            keyId ??= thumbprint;
            var notBefore = NumericDate(jwk, NotBeforeMember, what);
            var expires = NumericDate(jwk, ExpiresMember, what);
            if (notBefore is not null && expires is not null && expires <= notBefore)
            {
                throw new SealException($"{what} expires ({ExpiresMember}) before it becomes valid ({NotBeforeMember}).");
            }

            return new RecipientKeyEntry
            {
                KeyId = keyId,
                Thumbprint = thumbprint,
                Key = RecipientKey.Read(jwk, what + $" ('{keyId}')"),
                NotBefore = notBefore,
                Expires = expires,
            };
        }
        catch (SealException exception)
        {
            return new RecipientKeyEntry { KeyId = keyId ?? thumbprint ?? $"#{index}", Thumbprint = thumbprint, Problem = exception.Message };
        }
    }

    private static RecipientKeyEntry ReadRevoked(JsonObject jwk, int index)
    {
        var what = $"Revoked key {index + 1}";
        try
        {
            var thumbprint = JsonWebKeys.Thumbprint(jwk);
            return new RecipientKeyEntry
            {
                KeyId = JsonWebKeys.GetString(jwk, "kid", what) ?? thumbprint,
                Thumbprint = thumbprint,
                Revoked = true,
                RevokedAt = NumericDate(jwk, RevokedAtMember, what),
            };
        }
        catch (SealException exception)
        {
            // What a revocation that cannot be read revoked cannot be told: no key of the set may be trusted.
            throw new SealException($"{what} cannot be read, so no key of the set can be trusted: {exception.Message}");
        }
    }

    /// <summary>A NumericDate member (RFC 7519 §2: seconds since 1970-01-01T00:00:00Z UTC), whole seconds.</summary>
    private static DateTimeOffset? NumericDate(JsonObject jwk, string member, string what)
    {
        if (jwk[member] is null)
        {
            return null;
        }

        if (jwk[member] is JsonValue value && value.GetValueKind() == JsonValueKind.Number && value.TryGetValue<long>(out var seconds)
            && seconds is >= 0 and <= 253402300799)
        {
            return DateTimeOffset.FromUnixTimeSeconds(seconds);
        }

        throw new SealException($"{what}: '{member}' is not a NumericDate (whole seconds since 1970-01-01T00:00:00Z).");
    }

    [System.Text.RegularExpressions.GeneratedRegex("^[A-Za-z0-9._:-]{1,128}$")]
    private static partial System.Text.RegularExpressions.Regex KeyIdPattern();
}
