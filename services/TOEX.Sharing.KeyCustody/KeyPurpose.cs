namespace TOEX.Sharing.KeyCustody;

/// <summary>
/// What a key is for. Each purpose has its own keys and its own custody provider (configuration section
/// <c>KeyCustody:&lt;Purpose&gt;</c>), so a module can hold the signing keys while, say, development runs keep the rest local.
/// </summary>
public enum KeyPurpose
{
    /// <summary>The broker's signature over each released copy (ES256; gateway).</summary>
    PackageSigning,

    /// <summary>PolicyDecision's signature over each decision (ES256).</summary>
    DecisionSigning,

    /// <summary>The audit ledger's signed tree heads (ES256).</summary>
    TreeHeadSigning,

    /// <summary>Standard Webhooks <c>v1a</c> signatures (EdDSA, Ed25519; gateway).</summary>
    WebhookSigning,

    /// <summary>Wraps the per-package data keys of what the gateway stores (AES key wrap in a module, RSA-OAEP-256 in a vault).</summary>
    DataAtRest,

    /// <summary>
    /// The subjects' blind indexes (HMAC-SHA-256; gateway and audit share it). Never rotated: the indexes already stored
    /// would no longer match. In a module it is made once by an operator (<c>toex keys rotate --purpose blind-index</c>),
    /// never by a service, so two services starting together cannot make two.
    /// </summary>
    BlindIndex,
}

/// <summary>The key algorithm of each purpose, and how purposes are named in settings, commands and key labels.</summary>
public static class KeyPurposes
{
    public static readonly IReadOnlyList<KeyPurpose> All = Enum.GetValues<KeyPurpose>();

    /// <summary>The kebab-case name used in key labels, vault key names and <c>toex keys rotate --purpose</c>.</summary>
    public static string Name(this KeyPurpose purpose) => purpose switch
    {
        KeyPurpose.PackageSigning => "package-signing",
        KeyPurpose.DecisionSigning => "decision-signing",
        KeyPurpose.TreeHeadSigning => "tree-head-signing",
        KeyPurpose.WebhookSigning => "webhook-signing",
        KeyPurpose.DataAtRest => "data-at-rest",
        KeyPurpose.BlindIndex => "blind-index",
        _ => throw new ArgumentOutOfRangeException(nameof(purpose)),
    };

    public static KeyPurpose? Parse(string name) => All.Cast<KeyPurpose?>().FirstOrDefault(p => p!.Value.Name() == name);

    /// <summary>What a key of this purpose does: a JOSE signature algorithm, or <see cref="Wrap"/>.</summary>
    public static string Algorithm(this KeyPurpose purpose) => purpose switch
    {
        KeyPurpose.WebhookSigning => Sealing.JoseNames.WebhookSignatureAlgorithm,
        KeyPurpose.DataAtRest => Wrap,
        KeyPurpose.BlindIndex => Mac,
        _ => Sealing.JoseNames.SignatureAlgorithm,
    };

    /// <summary>Whether the purpose's keys are key pairs that sign (and publish a public key).</summary>
    public static bool Signs(this KeyPurpose purpose) => purpose is not (KeyPurpose.DataAtRest or KeyPurpose.BlindIndex);

    /// <summary>The algorithm name of the blind-index purpose: HMAC-SHA-256 with a secret key.</summary>
    public const string Mac = "HS256";

    /// <summary>The algorithm name of a wrapping purpose (each provider's <see cref="WrappedKey.Algorithm"/> says how).</summary>
    public const string Wrap = "wrap";
}
