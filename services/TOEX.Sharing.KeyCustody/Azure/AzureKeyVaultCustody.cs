using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text.Json.Nodes;
using TOEX.Sharing.Sealing;

namespace TOEX.Sharing.KeyCustody.Azure;

/// <summary>
/// One purpose's keys in Azure Key Vault or Managed HSM: the key <c>PREFIX-PURPOSE</c>, each of its enabled versions a
/// key of the ring, the latest version current; a rotation creates a new version inside the vault. Signing purposes are
/// EC P-256 keys (<c>EC-HSM</c>, ES256: the digest is computed here and signed by the vault); the data-at-rest purpose is
/// an RSA 3072 key (<c>RSA-HSM</c>) wrapping with RSA-OAEP-256. Ed25519 is not offered by Key Vault: the webhook key
/// stays in PKCS#11 (or local in development). Key ids are RFC 7638 thumbprints of the public keys.
/// </summary>
public sealed class AzureKeyVaultCustody : IKeyCustody
{
    public const string WrapAlgorithm = "RSA-OAEP-256";

    private readonly KeyVaultClient client;
    private readonly string name;
    private readonly bool hsm;
    private readonly bool createMissing;
    private readonly RefreshingKeys keys;
    private readonly ConcurrentDictionary<string, (string KeyId, string? PublicJwk)> versions = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, Uri> byKeyId = new(StringComparer.Ordinal);

    public AzureKeyVaultCustody(KeyVaultClient client, KeyPurpose purpose, AzureKeyVaultOptions options, bool createMissing, TimeProvider time,
        TimeSpan refreshInterval)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (purpose == KeyPurpose.WebhookSigning)
        {
            throw new KeyCustodyException("Azure Key Vault has no Ed25519 keys: keep the webhook-signing key in pkcs11 (or local outside Production).");
        }
        if (purpose == KeyPurpose.BlindIndex)
        {
            throw new KeyCustodyException("Azure Key Vault has no HMAC keys: keep the blind-index key in pkcs11 (or local outside Production).");
        }
        this.client = client;
        Purpose = purpose;
        name = $"{options.KeyPrefix}-{purpose.Name()}";
        hsm = options.Hsm;
        this.createMissing = createMissing;
        keys = new RefreshingKeys(time, refreshInterval, Load);
    }

    public KeyPurpose Purpose { get; }

    public string Provider => CustodyProviders.AzureKeyVault;

    public IReadOnlyList<CustodyKey> Keys => keys.Get();

    public byte[] Sign(string keyId, ReadOnlySpan<byte> data)
    {
        if (!Purpose.Signs())
        {
            throw new KeyCustodyException($"The {Purpose.Name()} key does not sign.");
        }
        return client.Operate(VersionOf(keyId), "sign", JoseNames.SignatureAlgorithm, SHA256.HashData(data));
    }

    public WrappedKey Wrap(ReadOnlySpan<byte> dataKey)
    {
        EnsureWraps();
        var current = Keys[0];
        return new WrappedKey(current.KeyId, WrapAlgorithm, client.Operate(VersionOf(current.KeyId), "wrapkey", WrapAlgorithm, dataKey));
    }

    public byte[] Unwrap(WrappedKey wrapped)
    {
        ArgumentNullException.ThrowIfNull(wrapped);
        EnsureWraps();
        if (wrapped.Algorithm != WrapAlgorithm)
        {
            throw new KeyCustodyException($"The data key was wrapped with '{wrapped.Algorithm}'; this custody unwraps {WrapAlgorithm}.");
        }
        return client.Operate(VersionOf(wrapped.KeyId), "unwrapkey", WrapAlgorithm, wrapped.Value);
    }

    public string PublicJwks() => "{\"keys\":[" + string.Join(",", Keys.Where(k => k.PublicJwk is not null).Select(k => k.PublicJwk)) + "]}";

    public CustodyKey Rotate()
    {
        Create();
        keys.Invalidate();
        return Keys[0];
    }

    public void Dispose()
    {
    }

    private void EnsureWraps()
    {
        if (Purpose.Signs())
        {
            throw new KeyCustodyException($"The {Purpose.Name()} key signs; it does not wrap data keys.");
        }
    }

    private Uri VersionOf(string keyId)
    {
        if (!byKeyId.ContainsKey(keyId))
        {
            keys.Invalidate();
            _ = Keys;
        }
        return byKeyId.TryGetValue(keyId, out var uri) ? uri : throw new KeyCustodyException($"The vault key '{name}' has no version '{keyId}'.");
    }

    private void Create() => client.CreateKey(name, Purpose.Signs()
        ? new JsonObject { ["kty"] = hsm ? "EC-HSM" : "EC", ["crv"] = "P-256", ["key_ops"] = new JsonArray("sign", "verify") }
        : new JsonObject { ["kty"] = hsm ? "RSA-HSM" : "RSA", ["key_size"] = 3072, ["key_ops"] = new JsonArray("wrapKey", "unwrapKey") });

    private List<CustodyKey> Load()
    {
        var latest = client.GetKey(name);
        if (latest is null)
        {
            if (!createMissing)
            {
                throw new KeyCustodyException($"The vault has no key '{name}'; create it with 'toex keys rotate --purpose {Purpose.Name()}' (KeyCustody:CreateMissing is off).");
            }
            Create();
            latest = client.GetKey(name) ?? throw new KeyCustodyException($"The vault lost the key '{name}' just made.");
        }
        var currentKid = KidOf(latest);
        var loaded = new List<CustodyKey>();
        foreach (var item in client.ListVersions(name).Where(i => i["attributes"]?["enabled"]?.GetValue<bool>() != false))
        {
            var versionKid = KidOf(item);
            var (keyId, publicJwk) = versions.GetOrAdd(versionKid.AbsoluteUri, _ => Describe(client.GetKey(name, versionKid.Segments[^1].TrimEnd('/'))
                ?? throw new KeyCustodyException($"The vault lost version {versionKid} of '{name}'.")));
            byKeyId[keyId] = versionKid;
            var created = item["attributes"]?["created"]?.GetValue<long>() is { } seconds ? DateTimeOffset.FromUnixTimeSeconds(seconds) : (DateTimeOffset?)null;
            loaded.Add(new CustodyKey(keyId, Purpose.Algorithm(), publicJwk, created, null));
            if (versionKid == currentKid)
            {
                (loaded[0], loaded[^1]) = (loaded[^1], loaded[0]);
            }
        }
        if (loaded.Count == 0 || byKeyId.GetValueOrDefault(loaded[0].KeyId) != currentKid)
        {
            throw new KeyCustodyException($"The vault's key '{name}' lists no enabled version matching its latest ({currentKid}).");
        }
        return [loaded[0], .. loaded.Skip(1).OrderByDescending(k => k.CreatedAt)];
    }

    /// <summary>The key id (RFC 7638 thumbprint) and, for a signing key, the published public JWK of a vault key bundle.</summary>
    private (string KeyId, string? PublicJwk) Describe(JsonObject bundle)
    {
        var key = bundle["key"] as JsonObject ?? throw new KeyCustodyException($"The vault's answer for '{name}' holds no key.");
        var kty = key["kty"]?.GetValue<string>();
        JsonObject bare = kty switch
        {
            "EC" or "EC-HSM" => new JsonObject { ["kty"] = "EC", ["crv"] = key["crv"]?.GetValue<string>(), ["x"] = key["x"]?.GetValue<string>(), ["y"] = key["y"]?.GetValue<string>() },
            "RSA" or "RSA-HSM" => new JsonObject { ["kty"] = "RSA", ["n"] = key["n"]?.GetValue<string>(), ["e"] = key["e"]?.GetValue<string>() },
            _ => throw new KeyCustodyException($"The vault's key '{name}' is of type '{kty}'."),
        };
        if ((Purpose.Signs() && kty is not ("EC" or "EC-HSM")) || (!Purpose.Signs() && kty is not ("RSA" or "RSA-HSM")))
        {
            throw new KeyCustodyException($"The vault's key '{name}' is of type '{kty}', not what the {Purpose.Name()} key needs.");
        }
        try
        {
            var thumbprint = JsonWebKeys.Thumbprint(bare.ToJsonString());
            return (thumbprint, Purpose.Signs() ? SigningKey.PublishedJwk(bare.ToJsonString()) : null);
        }
        catch (SealException e)
        {
            throw new KeyCustodyException($"The vault's key '{name}' is not usable: {e.Message}", e);
        }
    }

    private Uri KidOf(JsonObject itemOrBundle)
    {
        var kid = (itemOrBundle["key"]?["kid"] ?? itemOrBundle["kid"])?.GetValue<string>()
            ?? throw new KeyCustodyException($"The vault's answer for '{name}' names no kid.");
        return Uri.TryCreate(kid, UriKind.Absolute, out var uri) && uri.Scheme == "https"
            ? uri
            : throw new KeyCustodyException($"The vault's kid '{kid}' is not an https URL.");
    }
}
