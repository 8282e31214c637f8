using System.Buffers;
using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace TOEX.Sharing.Sealing;

/// <summary>
/// JSON Web Keys (RFC 7517) for the key types TOEX accepts: EC P-256 (signing and encryption), EC P-384
/// (partners' encryption keys), RSA of at least 2048 bits (partners' encryption keys) and OKP Ed25519 (the
/// webhook signing key): reading with plain error messages, writing, RFC 7638 thumbprints and key sets.
/// </summary>
public static class JsonWebKeys
{
    public const int MinimumRsaBits = 2048;

    private const string P256 = "P-256";
    private const string P384 = "P-384";
    private const int Ed25519Bytes = 32;

    private static readonly JsonDocumentOptions StrictJson = new() { AllowDuplicateProperties = false };

    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };

    private static readonly string[] PrivateMembers = ["d", "p", "q", "dp", "dq", "qi", "oth", "k"];

    /// <summary>The RFC 7638 JWK thumbprint (SHA-256, base64url) of an EC or RSA key, public or private.</summary>
    public static string Thumbprint(string jwkJson) => Thumbprint(ParseObject(jwkJson, "The key"));

    internal static string Thumbprint(JsonObject jwk)
    {
        if (GetString(jwk, "kty", "The key") == "OKP")
        {
            return Ed25519Thumbprint(ReadEd25519(jwk, "The key"));
        }

        // RFC 7638 §3.2: the required members only, in lexicographic order, no whitespace.
        var buffer = new ArrayBufferWriter<byte>(256);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            switch (KindOf(jwk, "The key"))
            {
                case KeyKind.EC:
                    var ec = ReadEc(jwk, requirePrivate: false, "The key");
                    writer.WriteString("crv", CurveName(ec.Curve));
                    writer.WriteString("kty", "EC");
                    writer.WriteString("x", Base64Url.EncodeToString(ec.Q.X));
                    writer.WriteString("y", Base64Url.EncodeToString(ec.Q.Y));
                    break;
                default:
                    var rsa = ReadRsa(jwk, requirePrivate: false, "The key");
                    writer.WriteString("e", Base64Url.EncodeToString(rsa.Exponent));
                    writer.WriteString("kty", "RSA");
                    writer.WriteString("n", Base64Url.EncodeToString(rsa.Modulus));
                    break;
            }

            writer.WriteEndObject();
        }

        return Base64Url.EncodeToString(SHA256.HashData(buffer.WrittenSpan));
    }

    /// <summary>
    /// The ES256 (EC P-256) verification key <paramref name="keyId"/> of a public JWKS, or null when the set
    /// holds no such key. The caller owns the key returned.
    /// </summary>
    /// <exception cref="SealException">The set is malformed, holds private key material or no ES256 key at all.</exception>
    public static ECDsa? FindVerificationKey(string jwksJson, string keyId, string what)
    {
        using var trusted = new TrustedKeys(jwksJson, what);
        return trusted.TryGetParameters(keyId, out var parameters) ? ECDsa.Create(parameters) : null;
    }

    internal static JsonObject ParseObject(string json, string what)
    {
        JsonNode? node;
        try
        {
            node = JsonNode.Parse(json, documentOptions: StrictJson);
        }
        catch (Exception exception) when (exception is JsonException or InvalidOperationException)
        {
            throw new SealException($"{what} is not valid JSON.");
        }

        return node as JsonObject ?? throw new SealException($"{what} is not a JSON object.");
    }

    /// <summary>The keys of a JWKS (<c>{"keys":[…]}</c>); a single JWK object is accepted as a set of one.</summary>
    internal static IReadOnlyList<JsonObject> ParseKeySet(string json, string what)
    {
        var root = ParseObject(json, what);
        if (!root.ContainsKey("keys"))
        {
            return root.ContainsKey("kty")
                ? [root]
                : throw new SealException($"{what} is neither a JWK set ({{\"keys\":[…]}}) nor a JWK.");
        }

        if (root["keys"] is not JsonArray keys)
        {
            throw new SealException($"{what}: 'keys' is not an array.");
        }

        var result = new List<JsonObject>(keys.Count);
        foreach (var key in keys)
        {
            result.Add(key as JsonObject ?? throw new SealException($"{what}: an entry of 'keys' is not a JSON object."));
        }

        return result.Count > 0 ? result : throw new SealException($"{what} holds no keys.");
    }

    internal static bool HasPrivateMembers(JsonObject jwk) => PrivateMembers.Any(jwk.ContainsKey);

    internal static string? GetString(JsonObject jwk, string name, string what)
    {
        try
        {
            return jwk[name] switch
            {
                null => null,
                JsonValue value when value.TryGetValue<string>(out var text) => text,
                _ => throw new SealException($"{what}: member '{name}' is not a string."),
            };
        }
        catch (InvalidOperationException)
        {
            // A string that is not UTF-8 or holds an escaped lone surrogate (found by fuzzing).
            throw new SealException($"{what}: member '{name}' is not Unicode text.");
        }
    }

    internal static KeyKind KindOf(JsonObject jwk, string what) =>
        GetString(jwk, "kty", what) switch
        {
            "EC" => KeyKind.EC,
            "RSA" => KeyKind.Rsa,
            null => throw new SealException($"{what} has no key type ('kty')."),
            var other => throw new SealException($"{what} is of type '{other}'; only EC (P-256, P-384) and RSA keys are accepted."),
        };

    /// <summary>The key id: the <c>kid</c> member, or the RFC 7638 thumbprint when there is none.</summary>
    internal static string KeyIdOf(JsonObject jwk, string what) => GetString(jwk, "kid", what) ?? Thumbprint(jwk);

    /// <summary>Checks the key is a usable EC P-256 or RSA (≥ 2048) key, with its private part when required.</summary>
    internal static void Validate(JsonObject jwk, bool requirePrivate, string what)
    {
        _ = GetString(jwk, "kid", what);
        if (KindOf(jwk, what) == KeyKind.EC)
        {
            ReadEc(jwk, requirePrivate, what);
        }
        else
        {
            ReadRsa(jwk, requirePrivate, what);
        }
    }

    internal static ECParameters ReadEc(JsonObject jwk, bool requirePrivate, string what)
    {
        if (KindOf(jwk, what) != KeyKind.EC)
        {
            throw new SealException($"{what} is not an EC key.");
        }

        var curve = GetString(jwk, "crv", what);
        var (namedCurve, size) = curve switch
        {
            P256 => (ECCurve.NamedCurves.nistP256, 32),
            P384 => (ECCurve.NamedCurves.nistP384, 48),
            null => throw new SealException($"{what} names no curve ('crv')."),
            _ => throw new SealException($"{what} is on curve '{curve}'; only P-256 and P-384 are accepted."),
        };

        var parameters = new ECParameters
        {
            Curve = namedCurve,
            Q = new ECPoint
            {
                X = FixedLength(Required(jwk, "x", what), size, "x", curve, what),
                Y = FixedLength(Required(jwk, "y", what), size, "y", curve, what),
            },
        };

        var d = Optional(jwk, "d", what);
        if (d is not null)
        {
            parameters.D = FixedLength(d, size, "d", curve, what);
        }
        else if (requirePrivate)
        {
            throw new SealException($"{what} is a public key; a private key (with 'd') is needed.");
        }

        try
        {
            // Importing checks the point is on the curve and, for a private key, that d matches it.
            using var check = ECDsa.Create(parameters);
        }
        catch (CryptographicException)
        {
            throw new SealException($"{what} is not a valid {curve} key.");
        }

        return parameters;
    }

    /// <summary>The JWK <c>crv</c> of a NIST curve's parameters, by the length of its coordinates.</summary>
    internal static string CurveName(ECParameters parameters) => parameters.Q.X?.Length switch
    {
        32 => P256,
        48 => "P-384",
        66 => "P-521",
        _ => throw new ArgumentException("Not a key on a NIST P-curve.", nameof(parameters)),
    };

    internal static RSAParameters ReadRsa(JsonObject jwk, bool requirePrivate, string what)
    {
        if (KindOf(jwk, what) != KeyKind.Rsa)
        {
            throw new SealException($"{what} is not an RSA key.");
        }

        var modulus = TrimLeadingZeros(Required(jwk, "n", what));
        var bits = BitLength(modulus);
        if (bits < MinimumRsaBits)
        {
            throw new SealException($"{what} is an RSA key of {bits} bits; at least {MinimumRsaBits} are required.");
        }

        var parameters = new RSAParameters { Modulus = modulus, Exponent = TrimLeadingZeros(Required(jwk, "e", what)) };
        var d = Optional(jwk, "d", what);
        if (d is null)
        {
            return requirePrivate
                ? throw new SealException($"{what} is a public key; a private key (with 'd') is needed.")
                : parameters;
        }

        var half = (modulus.Length + 1) / 2;
        parameters.D = LeftPad(d, modulus.Length, "d", what);
        parameters.P = LeftPad(RequiredCrt(jwk, "p", what), half, "p", what);
        parameters.Q = LeftPad(RequiredCrt(jwk, "q", what), half, "q", what);
        parameters.DP = LeftPad(RequiredCrt(jwk, "dp", what), half, "dp", what);
        parameters.DQ = LeftPad(RequiredCrt(jwk, "dq", what), half, "dq", what);
        parameters.InverseQ = LeftPad(RequiredCrt(jwk, "qi", what), half, "qi", what);
        try
        {
            using var check = RSA.Create(parameters);
        }
        catch (CryptographicException)
        {
            throw new SealException($"{what} is not a valid RSA private key.");
        }

        return parameters;
    }

    internal static int RsaBits(RSAParameters parameters) => BitLength(parameters.Modulus!);

    internal static JsonObject WriteEc(ECParameters parameters, bool includePrivate, string? keyId, string? use, string? algorithm)
    {
        var jwk = new JsonObject
        {
            ["kty"] = "EC",
            ["crv"] = CurveName(parameters.Curve),
            ["x"] = Base64Url.EncodeToString(parameters.Q.X),
            ["y"] = Base64Url.EncodeToString(parameters.Q.Y),
        };
        if (includePrivate)
        {
            jwk["d"] = Base64Url.EncodeToString(parameters.D ?? throw new ArgumentException("The EC parameters hold no private key.", nameof(parameters)));
        }

        return Finish(jwk, keyId, use, algorithm);
    }

    internal static JsonObject WriteRsa(RSAParameters parameters, bool includePrivate, string? keyId, string? use, string? algorithm)
    {
        var jwk = new JsonObject
        {
            ["kty"] = "RSA",
            ["n"] = Base64Url.EncodeToString(parameters.Modulus),
            ["e"] = Base64Url.EncodeToString(parameters.Exponent),
        };
        if (includePrivate)
        {
            if (parameters.D is null)
            {
                throw new ArgumentException("The RSA parameters hold no private key.", nameof(parameters));
            }

            jwk["d"] = Base64Url.EncodeToString(parameters.D);
            jwk["p"] = Base64Url.EncodeToString(parameters.P);
            jwk["q"] = Base64Url.EncodeToString(parameters.Q);
            jwk["dp"] = Base64Url.EncodeToString(parameters.DP);
            jwk["dq"] = Base64Url.EncodeToString(parameters.DQ);
            jwk["qi"] = Base64Url.EncodeToString(parameters.InverseQ);
        }

        return Finish(jwk, keyId, use, algorithm);
    }

    /// <summary>The public half of an EC or RSA JWK: only the members a public JWKS may carry.</summary>
    internal static JsonObject PublicOf(JsonObject jwk, string what)
    {
        var keyId = GetString(jwk, "kid", what);
        var use = GetString(jwk, "use", what);
        var algorithm = GetString(jwk, "alg", what);
        return KindOf(jwk, what) == KeyKind.EC
            ? WriteEc(ReadEc(jwk, requirePrivate: false, what), includePrivate: false, keyId, use, algorithm)
            : WriteRsa(ReadRsa(jwk, requirePrivate: false, what), includePrivate: false, keyId, use, algorithm);
    }

    internal static string ToKeySetJson(IEnumerable<JsonObject> keys)
    {
        var array = new JsonArray();
        foreach (var key in keys)
        {
            array.Add(key.DeepClone());
        }

        return new JsonObject { ["keys"] = array }.ToJsonString(Indented);
    }

    internal static string ToJson(JsonObject jwk) => jwk.ToJsonString(Indented);

    private static JsonObject Finish(JsonObject jwk, string? keyId, string? use, string? algorithm)
    {
        jwk["kid"] = keyId ?? Thumbprint(jwk);
        if (use is not null)
        {
            jwk["use"] = use;
        }

        if (algorithm is not null)
        {
            jwk["alg"] = algorithm;
        }

        return jwk;
    }

    private static byte[] Required(JsonObject jwk, string name, string what) =>
        Optional(jwk, name, what) ?? throw new SealException($"{what} lacks member '{name}'.");

    private static byte[] RequiredCrt(JsonObject jwk, string name, string what) =>
        Optional(jwk, name, what)
        ?? throw new SealException($"{what} lacks member '{name}'; RSA private keys need all of p, q, dp, dq and qi.");

    private static byte[]? Optional(JsonObject jwk, string name, string what)
    {
        var text = GetString(jwk, name, what);
        if (text is null)
        {
            return null;
        }

        try
        {
            return Base64Url.DecodeFromChars(text);
        }
        catch (FormatException)
        {
            throw new SealException($"{what}: member '{name}' is not base64url.");
        }
    }

    private static byte[] FixedLength(byte[] value, int length, string name, string curve, string what) =>
        value.Length == length ? value : throw new SealException($"{what}: member '{name}' is {value.Length} bytes; {curve} needs {length}.");

    /// <summary>The JWK <c>crv</c> of a named curve TOEX uses.</summary>
    internal static string CurveName(ECCurve curve) =>
        curve.Oid.Value == ECCurve.NamedCurves.nistP384.Oid.Value ? P384
        : curve.Oid.Value == ECCurve.NamedCurves.nistP256.Oid.Value ? P256
        : throw new SealException("Only P-256 and P-384 keys are used.");

    /// <summary>The raw public key (<c>x</c>) of an OKP Ed25519 JWK.</summary>
    internal static byte[] ReadEd25519(JsonObject jwk, string what)
    {
        if (GetString(jwk, "kty", what) != "OKP" || GetString(jwk, "crv", what) != "Ed25519")
        {
            throw new SealException($"{what} is not an Ed25519 key (kty OKP, crv Ed25519).");
        }
        var x = Required(jwk, "x", what);
        return x.Length == Ed25519Bytes ? x : throw new SealException($"{what}: member 'x' is {x.Length} bytes; Ed25519 needs {Ed25519Bytes}.");
    }

    /// <summary>The public OKP JWK of an Ed25519 key (use "sig", alg EdDSA); kid the RFC 7638 thumbprint unless given.</summary>
    internal static JsonObject WriteEd25519(byte[] x, string? keyId) => new()
    {
        ["kty"] = "OKP",
        ["crv"] = "Ed25519",
        ["x"] = Base64Url.EncodeToString(x),
        ["kid"] = keyId ?? Ed25519Thumbprint(x),
        ["use"] = "sig",
        ["alg"] = JoseNames.WebhookSignatureAlgorithm,
    };

    /// <summary>RFC 7638 (and RFC 8037) thumbprint of an Ed25519 public key: SHA-256 over <c>{"crv","kty","x"}</c>.</summary>
    internal static string Ed25519Thumbprint(byte[] x) =>
        Base64Url.EncodeToString(SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(
            $"{{\"crv\":\"Ed25519\",\"kty\":\"OKP\",\"x\":\"{Base64Url.EncodeToString(x)}\"}}")));

    private static byte[] LeftPad(byte[] value, int length, string name, string what)
    {
        var trimmed = TrimLeadingZeros(value);
        if (trimmed.Length > length)
        {
            throw new SealException($"{what}: member '{name}' is longer than the modulus allows.");
        }

        var padded = new byte[length];
        trimmed.CopyTo(padded, length - trimmed.Length);
        return padded;
    }

    private static byte[] TrimLeadingZeros(byte[] value)
    {
        var start = 0;
        while (start < value.Length - 1 && value[start] == 0)
        {
            start++;
        }

        return start == 0 ? value : value[start..];
    }

    private static int BitLength(byte[] bigEndian)
    {
        var trimmed = TrimLeadingZeros(bigEndian);
        return trimmed.Length == 0 || trimmed[0] == 0
            ? 0
            : ((trimmed.Length - 1) * 8) + (8 - byte.LeadingZeroCount(trimmed[0]));
    }
}
