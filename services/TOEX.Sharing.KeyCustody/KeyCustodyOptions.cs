namespace TOEX.Sharing.KeyCustody;

/// <summary>
/// <c>KeyCustody</c> settings: which provider keeps each purpose's keys, and each provider's own settings.
/// A purpose's provider is <c>KeyCustody:&lt;Purpose&gt;:Provider</c>, else <c>KeyCustody:Provider</c>, else <c>local</c>.
/// </summary>
public sealed class KeyCustodyOptions
{
    public const string Section = "KeyCustody";

    /// <summary>The provider of every purpose without its own: <c>local</c> [default], <c>pkcs11</c> or <c>azure-keyvault</c>.</summary>
    public string? Provider { get; set; }

    public PurposeOptions PackageSigning { get; set; } = new();

    public PurposeOptions DecisionSigning { get; set; } = new();

    public PurposeOptions TreeHeadSigning { get; set; } = new();

    public PurposeOptions WebhookSigning { get; set; } = new();

    public PurposeOptions DataAtRest { get; set; } = new();

    public PurposeOptions BlindIndex { get; set; } = new();

    /// <summary>
    /// Whether a purpose with no key yet gets one generated at first use. Default: yes outside Production; in
    /// Production no, so a service pointed at the wrong token or vault stops instead of quietly making keys
    /// (create them with <c>toex keys rotate --purpose …</c>).
    /// </summary>
    public bool? CreateMissing { get; set; }

    /// <summary>How often a module's or vault's key list is read again, so a rotation made elsewhere is used [30 s].</summary>
    public TimeSpan RefreshInterval { get; set; } = TimeSpan.FromSeconds(30);

    public Pkcs11Options Pkcs11 { get; set; } = new();

    public AzureKeyVaultOptions AzureKeyVault { get; set; } = new();

    public PurposeOptions For(KeyPurpose purpose) => purpose switch
    {
        KeyPurpose.PackageSigning => PackageSigning,
        KeyPurpose.DecisionSigning => DecisionSigning,
        KeyPurpose.TreeHeadSigning => TreeHeadSigning,
        KeyPurpose.WebhookSigning => WebhookSigning,
        KeyPurpose.DataAtRest => DataAtRest,
        KeyPurpose.BlindIndex => BlindIndex,
        _ => throw new ArgumentOutOfRangeException(nameof(purpose)),
    };

    /// <summary>The provider of <paramref name="purpose"/> and the setting that chose it (for messages).</summary>
    public (string Provider, string Setting) ProviderOf(KeyPurpose purpose)
    {
        var own = For(purpose).Provider;
        return !string.IsNullOrWhiteSpace(own) ? (own.Trim(), $"{Section}:{purpose}:Provider")
            : !string.IsNullOrWhiteSpace(Provider) ? (Provider.Trim(), $"{Section}:Provider")
            : (CustodyProviders.Local, $"{Section}:Provider");
    }
}

public sealed class PurposeOptions
{
    /// <summary>This purpose's provider, overriding <c>KeyCustody:Provider</c>.</summary>
    public string? Provider { get; set; }
}

/// <summary><c>KeyCustody:Pkcs11</c>: the module, the token and how to log in.</summary>
public sealed class Pkcs11Options
{
    /// <summary>The PKCS#11 module (shared library), e.g. <c>/usr/lib/softhsm/libsofthsm2.so</c> or a vendor's.</summary>
    public string? Library { get; set; }

    /// <summary>The label of the token holding the keys.</summary>
    public string? TokenLabel { get; set; }

    /// <summary>The user PIN (prefer <see cref="PinFile"/>; never logged).</summary>
    public string? Pin { get; set; }

    /// <summary>A file holding the user PIN (its first line), readable by the service's user only.</summary>
    public string? PinFile { get; set; }

    /// <summary>Prefix of the objects' labels: <c>PREFIX/package-signing</c>, … [toex]. Several deployments can share a token with different prefixes.</summary>
    public string LabelPrefix { get; set; } = "toex";
}

/// <summary><c>KeyCustody:AzureKeyVault</c>: the vault (or Managed HSM) and the identity the service uses.</summary>
public sealed class AzureKeyVaultOptions
{
    /// <summary><c>https://NAME.vault.azure.net/</c> or <c>https://NAME.managedhsm.azure.net/</c>.</summary>
    public Uri? VaultUri { get; set; }

    /// <summary>Prefix of the key names: <c>PREFIX-package-signing</c>, … [toex].</summary>
    public string KeyPrefix { get; set; } = "toex";

    /// <summary>
    /// The Azure.Identity credential: <c>managed-identity</c> [default] (optionally <see cref="ManagedIdentityClientId"/>),
    /// <c>workload-identity</c> (AKS, from the AZURE_* variables the webhook sets) or <c>default</c> (DefaultAzureCredential's chain).
    /// </summary>
    public string Credential { get; set; } = "managed-identity";

    /// <summary>A user-assigned managed identity's client id; unset, the system-assigned identity.</summary>
    public string? ManagedIdentityClientId { get; set; }

    /// <summary>Keys made HSM-backed (<c>EC-HSM</c>, <c>RSA-HSM</c>: a Premium vault or Managed HSM) [true]; false for a Standard vault's software keys.</summary>
    public bool Hsm { get; set; } = true;

    /// <summary>The REST API version [7.5].</summary>
    public string ApiVersion { get; set; } = "7.5";
}

/// <summary>The provider names of the settings.</summary>
public static class CustodyProviders
{
    public const string Local = "local";
    public const string Pkcs11 = "pkcs11";
    public const string AzureKeyVault = "azure-keyvault";

    public static readonly IReadOnlyList<string> All = [Local, Pkcs11, AzureKeyVault];
}
