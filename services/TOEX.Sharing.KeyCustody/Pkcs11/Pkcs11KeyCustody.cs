using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;
using Net.Pkcs11Interop.Common;
using Net.Pkcs11Interop.HighLevelAPI;
using TOEX.Sharing.Sealing;

namespace TOEX.Sharing.KeyCustody.Pkcs11;

/// <summary>
/// One purpose's keys in a PKCS#11 token. Key pairs (ECDSA P-256 for ES256; Ed25519 for EdDSA where the module has
/// <c>CKM_EC_EDWARDS_KEY_PAIR_GEN</c> and <c>CKM_EDDSA</c>) and AES-256 wrapping keys are generated inside the token as
/// token objects, private keys <c>CKA_SENSITIVE</c> and not <c>CKA_EXTRACTABLE</c>, labelled <c>PREFIX/PURPOSE</c>, with
/// <c>CKA_ID</c> the key id. Which key is current, and when each was made and retired, is a private data object
/// labelled <c>PREFIX/PURPOSE/manifest</c>. Signing: ES256 hashes here and signs the digest with <c>CKM_ECDSA</c>;
/// EdDSA signs the message with <c>CKM_EDDSA</c>. Wrapping: <c>CKM_AES_KEY_WRAP_PAD</c> (RFC 5649) of the data key
/// imported as a session object that is destroyed at once.
/// </summary>
public sealed class Pkcs11KeyCustody : IKeyCustody
{
    /// <summary>The algorithm name of a wrapped key: AES key wrap with padding (RFC 5649), AES-256.</summary>
    public const string WrapAlgorithm = "A256KW-PAD";

    // PKCS#11 3.0 values Pkcs11Interop 5.3 has no names for.
    private const ulong CkkEcEdwards = 0x40;
    private const ulong CkmEcEdwardsKeyPairGen = 0x1055;
    private const ulong CkmEddsa = 0x1057;

    /// <summary>DER of the named curves: prime256v1 (1.2.840.10045.3.1.7) and id-Ed25519 (1.3.101.112).</summary>
    private static readonly byte[] P256Parameters = [0x06, 0x08, 0x2A, 0x86, 0x48, 0xCE, 0x3D, 0x03, 0x01, 0x07];
    private static readonly byte[] Ed25519Parameters = [0x06, 0x03, 0x2B, 0x65, 0x70];

    private readonly Pkcs11Token token;
    private readonly bool ownsToken;
    private readonly string label;
    private readonly string manifestLabel;
    private readonly bool createMissing;
    private readonly TimeProvider time;
    private readonly RefreshingKeys keys;
    private readonly Lock rotation = new();

    public Pkcs11KeyCustody(Pkcs11Token token, KeyPurpose purpose, string labelPrefix, bool createMissing, TimeProvider time,
        TimeSpan refreshInterval, bool ownsToken = false)
    {
        this.token = token;
        this.ownsToken = ownsToken;
        Purpose = purpose;
        label = $"{labelPrefix}/{purpose.Name()}";
        manifestLabel = label + "/manifest";
        this.createMissing = createMissing;
        this.time = time;
        keys = new RefreshingKeys(time, refreshInterval, Load);
    }

    public KeyPurpose Purpose { get; }

    public string Provider => CustodyProviders.Pkcs11;

    public IReadOnlyList<CustodyKey> Keys => keys.Get();

    public byte[] Sign(string keyId, ReadOnlySpan<byte> data)
    {
        if (Purpose == KeyPurpose.BlindIndex)
        {
            var message = data.ToArray();
            return token.Run(session =>
            {
                var secret = Find(session, CKO.CKO_SECRET_KEY, keyId)
                    ?? throw new KeyCustodyException($"The token '{token.TokenLabel}' holds no blind-index key '{keyId}' labelled '{label}'.");
                using var hmac = session.Factories.MechanismFactory.Create(CKM.CKM_SHA256_HMAC);
                return session.Sign(hmac, secret, message);
            });
        }
        if (!Purpose.Signs())
        {
            throw new KeyCustodyException($"The {Purpose.Name()} key does not sign.");
        }
        var eddsa = Purpose.Algorithm() == JoseNames.WebhookSignatureAlgorithm;
        var input = eddsa ? data.ToArray() : SHA256.HashData(data);
        return token.Run(session =>
        {
            var key = Find(session, CKO.CKO_PRIVATE_KEY, keyId)
                ?? throw new KeyCustodyException($"The token '{token.TokenLabel}' holds no private key '{keyId}' labelled '{label}'.");
            using var mechanism = eddsa ? session.Factories.MechanismFactory.Create(CkmEddsa) : session.Factories.MechanismFactory.Create(CKM.CKM_ECDSA);
            return session.Sign(mechanism, key, input);
        });
    }

    public WrappedKey Wrap(ReadOnlySpan<byte> dataKey)
    {
        EnsureWraps();
        var current = Keys[0];
        var value = dataKey.ToArray();
        try
        {
            var wrapped = token.Run(session =>
            {
                var wrapping = Find(session, CKO.CKO_SECRET_KEY, current.KeyId)
                    ?? throw new KeyCustodyException($"The token '{token.TokenLabel}' holds no wrapping key '{current.KeyId}' labelled '{label}'.");
                var attributes = session.Factories.ObjectAttributeFactory;
                var data = session.CreateObject(
                [
                    attributes.Create(CKA.CKA_CLASS, CKO.CKO_SECRET_KEY),
                    attributes.Create(CKA.CKA_KEY_TYPE, CKK.CKK_GENERIC_SECRET),
                    attributes.Create(CKA.CKA_TOKEN, false),
                    attributes.Create(CKA.CKA_EXTRACTABLE, true),
                    attributes.Create(CKA.CKA_VALUE, value),
                ]);
                try
                {
                    using var mechanism = session.Factories.MechanismFactory.Create(CKM.CKM_AES_KEY_WRAP_PAD);
                    return session.WrapKey(mechanism, wrapping, data);
                }
                finally
                {
                    session.DestroyObject(data);
                }
            });
            return new WrappedKey(current.KeyId, WrapAlgorithm, wrapped);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(value);
        }
    }

    public byte[] Unwrap(WrappedKey wrapped)
    {
        ArgumentNullException.ThrowIfNull(wrapped);
        EnsureWraps();
        if (wrapped.Algorithm != WrapAlgorithm)
        {
            throw new KeyCustodyException($"The data key was wrapped with '{wrapped.Algorithm}'; this custody unwraps {WrapAlgorithm}.");
        }
        return token.Run(session =>
        {
            var wrapping = Find(session, CKO.CKO_SECRET_KEY, wrapped.KeyId)
                ?? throw new KeyCustodyException($"The token '{token.TokenLabel}' holds no wrapping key '{wrapped.KeyId}' labelled '{label}'.");
            var attributes = session.Factories.ObjectAttributeFactory;
            using var mechanism = session.Factories.MechanismFactory.Create(CKM.CKM_AES_KEY_WRAP_PAD);
            IObjectHandle data;
            try
            {
                data = session.UnwrapKey(mechanism, wrapping, wrapped.Value,
                [
                    attributes.Create(CKA.CKA_CLASS, CKO.CKO_SECRET_KEY),
                    attributes.Create(CKA.CKA_KEY_TYPE, CKK.CKK_GENERIC_SECRET),
                    attributes.Create(CKA.CKA_TOKEN, false),
                    attributes.Create(CKA.CKA_SENSITIVE, false),
                    attributes.Create(CKA.CKA_EXTRACTABLE, true),
                ]);
            }
            catch (Pkcs11Exception e) when (e.RV is CKR.CKR_WRAPPED_KEY_INVALID or CKR.CKR_WRAPPED_KEY_LEN_RANGE or CKR.CKR_ENCRYPTED_DATA_INVALID)
            {
                throw new KeyCustodyException($"The wrapped data key does not unwrap with key '{wrapped.KeyId}': it was altered or wrapped by another key.");
            }
            try
            {
                return session.GetAttributeValue(data, [CKA.CKA_VALUE])[0].GetValueAsByteArray();
            }
            finally
            {
                session.DestroyObject(data);
            }
        });
    }

    public string PublicJwks() => "{\"keys\":[" + string.Join(",", Keys.Where(k => k.PublicJwk is not null).Select(k => k.PublicJwk)) + "]}";

    public CustodyKey Rotate()
    {
        lock (rotation)
        {
            if (Purpose == KeyPurpose.BlindIndex && TryLoad() is { Count: > 0 })
            {
                throw new KeyCustodyException("The blind-index key is never rotated: the blind indexes already stored (audit searches) would no longer match.");
            }
            AddKey();
            keys.Invalidate();
            return Keys[0];
        }
    }

    /// <summary>Generates a new key and makes it current in the manifest (creating the manifest for a first key).</summary>
    private string AddKey() =>
        token.Run(session =>
        {
            var now = time.GetUtcNow();
            var found = FindManifest(session);
            var keyId = Generate(session);
            WriteManifest(session, found?.Handle, found is { } existing ? existing.Manifest.With(keyId, now) : CustodyManifest.First(keyId, now));
            return keyId;
        });

    /// <summary>
    /// The attributes the token reports for each private or secret key of this purpose: what a check that no key can
    /// leave the token reads back (<c>CKA_SENSITIVE</c> true, <c>CKA_EXTRACTABLE</c> false, never extractable, always sensitive).
    /// </summary>
    public IReadOnlyList<(string KeyId, bool Sensitive, bool Extractable, bool AlwaysSensitive, bool NeverExtractable)> SecretKeyAttributes() =>
        token.Run(session =>
        {
            var objectClass = Purpose.Signs() ? CKO.CKO_PRIVATE_KEY : CKO.CKO_SECRET_KEY;
            var attributes = session.Factories.ObjectAttributeFactory;
            return session.FindAllObjects([attributes.Create(CKA.CKA_CLASS, objectClass), attributes.Create(CKA.CKA_LABEL, label)])
                .Select(handle =>
                {
                    var values = session.GetAttributeValue(handle,
                        [CKA.CKA_ID, CKA.CKA_SENSITIVE, CKA.CKA_EXTRACTABLE, CKA.CKA_ALWAYS_SENSITIVE, CKA.CKA_NEVER_EXTRACTABLE]);
                    return (Encoding.UTF8.GetString(values[0].GetValueAsByteArray()), values[1].GetValueAsBool(), values[2].GetValueAsBool(),
                        values[3].GetValueAsBool(), values[4].GetValueAsBool());
                })
                .ToList();
        });

    public void Dispose()
    {
        if (ownsToken)
        {
            token.Dispose();
        }
    }

    private void EnsureWraps()
    {
        if (Purpose != KeyPurpose.DataAtRest)
        {
            throw new KeyCustodyException($"The {Purpose.Name()} key does not wrap data keys.");
        }
    }

    private List<CustodyKey> Load() => TryLoad() ?? CreateFirst();

    private List<CustodyKey> CreateFirst()
    {
        if (Purpose == KeyPurpose.BlindIndex)
        {
            throw new KeyCustodyException($"The token '{token.TokenLabel}' holds no blind-index key (objects labelled '{label}'); an operator creates it "
                + "once with 'toex keys rotate --purpose blind-index' (the gateway and the audit service share it, so neither makes it).");
        }
        if (!createMissing)
        {
            throw new KeyCustodyException($"The token '{token.TokenLabel}' holds no {Purpose.Name()} key (objects labelled '{label}'); "
                + $"create one with 'toex keys rotate --purpose {Purpose.Name()}' (KeyCustody:CreateMissing is off).");
        }
        lock (rotation)
        {
            if (TryLoad() is { } loaded)
            {
                return loaded;
            }
            AddKey();
            return TryLoad() ?? throw new KeyCustodyException($"The token '{token.TokenLabel}' lost the {Purpose.Name()} key just made.");
        }
    }

    private List<CustodyKey>? TryLoad() =>
        token.Run(session =>
        {
            if (FindManifest(session) is not { } found)
            {
                return null;
            }
            return found.Manifest.Ordered().Select(entry => new CustodyKey(entry.Kid, Purpose.Algorithm(),
                Purpose.Signs() ? SigningKey.PublishedJwk(PublicJwk(session, entry.Kid)) : null, entry.CreatedAt, entry.RetiredAt)).ToList();
        });

    /// <summary>Generates a key of this purpose in the token and returns its id.</summary>
    private string Generate(ISession session)
    {
        var attributes = session.Factories.ObjectAttributeFactory;
        if (Purpose == KeyPurpose.BlindIndex)
        {
            var macId = Base64Url.EncodeToString(RandomNumberGenerator.GetBytes(16));
            using var generic = session.Factories.MechanismFactory.Create(CKM.CKM_GENERIC_SECRET_KEY_GEN);
            session.GenerateKey(generic,
            [
                attributes.Create(CKA.CKA_CLASS, CKO.CKO_SECRET_KEY),
                attributes.Create(CKA.CKA_KEY_TYPE, CKK.CKK_GENERIC_SECRET),
                attributes.Create(CKA.CKA_VALUE_LEN, 32UL),
                attributes.Create(CKA.CKA_TOKEN, true),
                attributes.Create(CKA.CKA_PRIVATE, true),
                attributes.Create(CKA.CKA_SENSITIVE, true),
                attributes.Create(CKA.CKA_EXTRACTABLE, false),
                attributes.Create(CKA.CKA_SIGN, true),
                attributes.Create(CKA.CKA_VERIFY, true),
                attributes.Create(CKA.CKA_LABEL, label),
                attributes.Create(CKA.CKA_ID, Encoding.UTF8.GetBytes(macId)),
            ]);
            return macId;
        }
        if (!Purpose.Signs())
        {
            var keyId = Base64Url.EncodeToString(RandomNumberGenerator.GetBytes(16));
            using var aes = session.Factories.MechanismFactory.Create(CKM.CKM_AES_KEY_GEN);
            session.GenerateKey(aes,
            [
                attributes.Create(CKA.CKA_CLASS, CKO.CKO_SECRET_KEY),
                attributes.Create(CKA.CKA_KEY_TYPE, CKK.CKK_AES),
                attributes.Create(CKA.CKA_VALUE_LEN, 32UL),
                attributes.Create(CKA.CKA_TOKEN, true),
                attributes.Create(CKA.CKA_PRIVATE, true),
                attributes.Create(CKA.CKA_SENSITIVE, true),
                attributes.Create(CKA.CKA_EXTRACTABLE, false),
                attributes.Create(CKA.CKA_WRAP, true),
                attributes.Create(CKA.CKA_UNWRAP, true),
                attributes.Create(CKA.CKA_ENCRYPT, false),
                attributes.Create(CKA.CKA_DECRYPT, false),
                attributes.Create(CKA.CKA_LABEL, label),
                attributes.Create(CKA.CKA_ID, Encoding.UTF8.GetBytes(keyId)),
            ]);
            return keyId;
        }

        var eddsa = Purpose.Algorithm() == JoseNames.WebhookSignatureAlgorithm;
        var temporaryId = RandomNumberGenerator.GetBytes(16);
        using var mechanism = eddsa
            ? session.Factories.MechanismFactory.Create(CkmEcEdwardsKeyPairGen)
            : session.Factories.MechanismFactory.Create(CKM.CKM_EC_KEY_PAIR_GEN);
        session.GenerateKeyPair(mechanism,
        [
            attributes.Create(CKA.CKA_TOKEN, true),
            attributes.Create(CKA.CKA_PRIVATE, false),
            attributes.Create(CKA.CKA_VERIFY, true),
            attributes.Create(CKA.CKA_EC_PARAMS, eddsa ? Ed25519Parameters : P256Parameters),
            attributes.Create(CKA.CKA_LABEL, label),
            attributes.Create(CKA.CKA_ID, temporaryId),
        ],
        [
            attributes.Create(CKA.CKA_TOKEN, true),
            attributes.Create(CKA.CKA_PRIVATE, true),
            attributes.Create(CKA.CKA_SENSITIVE, true),
            attributes.Create(CKA.CKA_EXTRACTABLE, false),
            attributes.Create(CKA.CKA_SIGN, true),
            attributes.Create(CKA.CKA_LABEL, label),
            attributes.Create(CKA.CKA_ID, temporaryId),
        ],
        out var publicKey, out var privateKey);

        // The key id is the RFC 7638 thumbprint of the public key, known only now: both halves are named by it.
        var jwk = PublicJwkOf(session, publicKey, eddsa);
        var kid = JsonWebKeys.Thumbprint(jwk);
        var id = Encoding.UTF8.GetBytes(kid);
        session.SetAttributeValue(publicKey, [attributes.Create(CKA.CKA_ID, id)]);
        session.SetAttributeValue(privateKey, [attributes.Create(CKA.CKA_ID, id)]);
        return kid;
    }

    private string PublicJwk(ISession session, string keyId)
    {
        var handle = Find(session, CKO.CKO_PUBLIC_KEY, keyId)
            ?? throw new KeyCustodyException($"The token '{token.TokenLabel}' holds no public key '{keyId}' labelled '{label}'.");
        return PublicJwkOf(session, handle, Purpose.Algorithm() == JoseNames.WebhookSignatureAlgorithm);
    }

    private static string PublicJwkOf(ISession session, IObjectHandle publicKey, bool eddsa)
    {
        var point = EcPoint(session.GetAttributeValue(publicKey, [CKA.CKA_EC_POINT])[0].GetValueAsByteArray(), eddsa ? 32 : 65);
        if (eddsa)
        {
            return $$"""{"kty":"OKP","crv":"Ed25519","x":"{{Base64Url.EncodeToString(point)}}"}""";
        }
        if (point[0] != 0x04)
        {
            throw new KeyCustodyException("The token returned a compressed or malformed EC point.");
        }
        return $$"""{"kty":"EC","crv":"P-256","x":"{{Base64Url.EncodeToString(point.AsSpan(1, 32))}}","y":"{{Base64Url.EncodeToString(point.AsSpan(33, 32))}}"}""";
    }

    /// <summary><c>CKA_EC_POINT</c> is a DER OCTET STRING holding the point; some modules give the point bare.</summary>
    private static byte[] EcPoint(byte[] value, int pointLength) =>
        value.Length == pointLength + 2 && value[0] == 0x04 && value[1] == pointLength ? value[2..]
        : value.Length == pointLength ? value
        : throw new KeyCustodyException($"The token returned an EC point of {value.Length} bytes; expected {pointLength}.");

    private IObjectHandle? Find(ISession session, CKO objectClass, string keyId)
    {
        var attributes = session.Factories.ObjectAttributeFactory;
        return session.FindAllObjects(
        [
            attributes.Create(CKA.CKA_CLASS, objectClass),
            attributes.Create(CKA.CKA_LABEL, label),
            attributes.Create(CKA.CKA_ID, Encoding.UTF8.GetBytes(keyId)),
        ]).FirstOrDefault();
    }

    /// <summary>The key list; while a rotation elsewhere is replacing it there may be two for a moment: the newer (newest current key) wins.</summary>
    private (IObjectHandle Handle, CustodyManifest Manifest)? FindManifest(ISession session)
    {
        var attributes = session.Factories.ObjectAttributeFactory;
        return session.FindAllObjects([attributes.Create(CKA.CKA_CLASS, CKO.CKO_DATA), attributes.Create(CKA.CKA_LABEL, manifestLabel)])
            .Select(handle => (Handle: handle, Manifest: CustodyManifest.Parse(session.GetAttributeValue(handle, [CKA.CKA_VALUE])[0].GetValueAsByteArray(),
                $"Token '{token.TokenLabel}', object '{manifestLabel}'")))
            .OrderByDescending(found => found.Manifest.Keys.Count)
            .Cast<(IObjectHandle, CustodyManifest)?>()
            .FirstOrDefault();
    }

    /// <summary>
    /// Writes the key list as a new data object, then destroys the one it replaces (a data object's value cannot be
    /// changed in SoftHSM2): a reader meanwhile finds one list or the other, never none.
    /// </summary>
    private void WriteManifest(ISession session, IObjectHandle? replaced, CustodyManifest manifest)
    {
        var attributes = session.Factories.ObjectAttributeFactory;
        session.CreateObject(
        [
            attributes.Create(CKA.CKA_CLASS, CKO.CKO_DATA),
            attributes.Create(CKA.CKA_TOKEN, true),
            attributes.Create(CKA.CKA_PRIVATE, true),
            attributes.Create(CKA.CKA_APPLICATION, "TOEX.Sharing key custody"),
            attributes.Create(CKA.CKA_LABEL, manifestLabel),
            attributes.Create(CKA.CKA_VALUE, manifest.ToBytes()),
        ]);
        if (replaced is not null)
        {
            session.DestroyObject(replaced);
        }
    }
}
