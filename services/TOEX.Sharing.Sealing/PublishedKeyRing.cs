namespace TOEX.Sharing.Sealing;

/// <summary>
/// A key ring whose public JWKS is also a file other services read (PolicyDecision's decision keys for the gateway and the
/// audit service; the audit service's keys for the gateway's check of referral decisions). The file is written when the
/// ring is opened and again whenever the key set differs from what was last written, before the current key is handed
/// out: a rotation made elsewhere is published before anything is signed with the new key, and the old keys stay in it,
/// so what was signed before and after verifies. Public keys only.
/// </summary>
public sealed class PublishedKeyRing : IKeyRing
{
    private readonly IKeyRing inner;
    private readonly string path;
    private readonly Lock gate = new();
    private string? published;

    public PublishedKeyRing(IKeyRing inner, string path)
    {
        ArgumentNullException.ThrowIfNull(inner);
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        this.inner = inner;
        this.path = path;
        Publish();
    }

    public SigningKey Current
    {
        get
        {
            var key = inner.Current;
            Publish();
            return key;
        }
    }

    public IReadOnlyList<SigningKey> All => inner.All;

    public string PublicJwks() => inner.PublicJwks();

    public SigningKey? Find(string kid) => inner.Find(kid);

    private void Publish()
    {
        var jwks = inner.PublicJwks();
        if (jwks == published)
        {
            return;
        }
        lock (gate)
        {
            if (jwks != published)
            {
                PublicKeyFile.Write(inner, path);
                published = jwks;
            }
        }
    }
}
