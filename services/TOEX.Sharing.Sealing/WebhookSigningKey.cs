using TOEX.Sharing.Contracts;

namespace TOEX.Sharing.Sealing;

/// <summary>
/// The broker's Ed25519 keys for Standard Webhooks <c>v1a</c> signatures: a key ring of EdDSA keys (a
/// <see cref="LocalKeyRing"/> for development, or a hardware module through key custody). The current key
/// signs; every key, current and retired, is published as an OKP JWK (<c>crv</c> Ed25519, <c>alg</c> EdDSA)
/// whose <c>kid</c> is the RFC 7638 thumbprint, so a delivery signed before a rotation still verifies.
/// </summary>
public sealed class WebhookSigningKey : IDisposable
{
    /// <summary>The single key file of a webhook key directory made before the key was a ring; adopted as the ring's first key.</summary>
    public const string LegacyFileName = "webhook-ed25519.private.jwk";

    private readonly IKeyRing ring;

    public WebhookSigningKey(IKeyRing ring)
    {
        ArgumentNullException.ThrowIfNull(ring);
        if (ring.Current.Algorithm != JoseNames.WebhookSignatureAlgorithm)
        {
            throw new SealException($"The webhook signing key is {JoseNames.WebhookSignatureAlgorithm} (Ed25519); key '{ring.Current.KeyId}' is {ring.Current.Algorithm}.");
        }
        this.ring = ring;
    }

    /// <summary>The current key's id.</summary>
    public string KeyId => ring.Current.KeyId;

    /// <summary>The current key's raw 32-byte public key.</summary>
    public byte[] PublicKey => JsonWebKeys.ReadEd25519(ring.Current.PublicJwkObject, "The webhook signing key");

    /// <summary>The Standard Webhooks form of the current public key: <c>whpk_</c> and its base64.</summary>
    public string StandardPublicKey => "whpk_" + Convert.ToBase64String(PublicKey);

    /// <summary>The local webhook key ring in <paramref name="directory"/> (0700), created on first use.</summary>
    public static WebhookSigningKey OpenOrCreate(string directory, TimeProvider? time = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(directory);
        directory = Path.GetFullPath(directory);
        AdoptLegacyKey(directory, time ?? TimeProvider.System);
        return new WebhookSigningKey(LocalKeyRing.OpenOrCreate(directory, time ?? TimeProvider.System, JoseNames.WebhookSignatureAlgorithm));
    }

    /// <summary>The public JWKS receivers verify webhook signatures with: the current key first, then retired ones.</summary>
    public string PublicJwks() => ring.PublicJwks();

    /// <summary>The <c>webhook-signature</c> header value for one attempt: <c>v1a,</c> and the base64 Ed25519 signature.</summary>
    public string Sign(string webhookId, long timestamp, string body) =>
        "v1a," + Convert.ToBase64String(ring.Current.SignData(StandardWebhook.SignedContent(webhookId, timestamp, body)));

    public void Dispose() => (ring as IDisposable)?.Dispose();

    /// <summary>A directory holding only the single key file of old becomes a ring whose first key is that key (receivers keep trusting it).</summary>
    public static void AdoptLegacyKey(string directory, TimeProvider time)
    {
        var legacy = Path.Combine(directory, LegacyFileName);
        if (!File.Exists(legacy) || File.Exists(Path.Combine(directory, LocalKeyRing.ManifestFileName)))
        {
            return;
        }
        var what = $"The webhook key file '{legacy}'";
        SecureFiles.EnsureOwnerOnly(legacy, what);
        var jwk = JsonWebKeys.ParseObject(File.ReadAllText(legacy), what);
        var key = SigningKey.FromPrivateJwk(jwk, what);
        var keyFile = Path.Combine(directory, key.KeyId + KeyFiles.PrivateKeySuffix);
        if (!File.Exists(keyFile))
        {
            SecureFiles.WriteAtomically(keyFile, jwk.ToJsonString(), isPrivate: true, overwrite: false);
        }
        var manifest = new KeyRingManifest(key.KeyId, [new KeyRingEntry(key.KeyId, time.GetUtcNow(), null)]);
        SecureFiles.WriteAtomically(Path.Combine(directory, LocalKeyRing.ManifestFileName), ToexJson.Serialize(manifest), isPrivate: true, overwrite: false);
    }
}
