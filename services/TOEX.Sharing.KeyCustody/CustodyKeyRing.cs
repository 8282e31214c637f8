using System.Collections.Concurrent;
using TOEX.Sharing.Sealing;

namespace TOEX.Sharing.KeyCustody;

/// <summary>
/// A signing purpose's custody as the <see cref="IKeyRing"/> that <see cref="PackageSealer"/>, <see cref="DecisionSigner"/>,
/// <see cref="WebhookSigningKey"/> and the tree-head signer use: each <see cref="SigningKey"/> signs through the custody,
/// so the private key stays where it is kept.
/// </summary>
public sealed class CustodyKeyRing : IKeyRing
{
    private readonly IKeyCustody custody;
    private readonly ConcurrentDictionary<string, SigningKey> signingKeys = new(StringComparer.Ordinal);

    public CustodyKeyRing(IKeyCustody custody)
    {
        ArgumentNullException.ThrowIfNull(custody);
        if (!custody.Purpose.Signs())
        {
            throw new ArgumentException($"The {custody.Purpose.Name()} key does not sign.", nameof(custody));
        }
        this.custody = custody;
    }

    public IKeyCustody Custody => custody;

    public SigningKey Current => For(custody.Keys[0]);

    public IReadOnlyList<SigningKey> All => [.. custody.Keys.Select(For)];

    public string PublicJwks() => custody.PublicJwks();

    public SigningKey? Find(string kid) => custody.Keys.FirstOrDefault(key => key.KeyId == kid) is { } key ? For(key) : null;

    private SigningKey For(CustodyKey key) =>
        signingKeys.GetOrAdd(key.KeyId, _ => SigningKey.InCustody(key.PublicJwk!, new Source(custody, key.KeyId)));

    private sealed class Source(IKeyCustody custody, string keyId) : ISignatureSource
    {
        public byte[] Sign(ReadOnlySpan<byte> data) => custody.Sign(keyId, data);
    }
}
