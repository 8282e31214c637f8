using System.Collections.Concurrent;
using System.Text;
using Microsoft.Extensions.Options;
using TOEX.Sharing.KeyCustody.Azure;
using TOEX.Sharing.KeyCustody.Pkcs11;
using TOEX.Sharing.Sealing;

namespace TOEX.Sharing.KeyCustody;

/// <summary>
/// A service's custodies, one per key purpose, each from the provider its settings choose (opened on first use and
/// kept): the one place a service gets a key from. The PKCS#11 token is opened once and shared by every purpose.
/// </summary>
public sealed class KeyCustodies(IOptions<KeyCustodyOptions> options, bool production, TimeProvider time) : IDisposable
{

    private readonly ConcurrentDictionary<KeyPurpose, Lazy<IKeyCustody>> custodies = new();
    private readonly ConcurrentDictionary<KeyPurpose, CustodyKeyRing> rings = new();
    private readonly Lazy<Pkcs11Token> token = new(() => OpenToken(options.Value.Pkcs11));
    private readonly Lazy<KeyVaultClient> vault = new(() => KeyVaultClient.Create(options.Value.AzureKeyVault));

    /// <summary>
    /// The custody of <paramref name="purpose"/>; <paramref name="localDirectory"/> is where the <c>local</c> provider
    /// keeps its keys (the service's existing key path setting).
    /// </summary>
    public IKeyCustody Get(KeyPurpose purpose, string localDirectory) =>
        custodies.GetOrAdd(purpose, p => new Lazy<IKeyCustody>(() => Open(p, localDirectory))).Value;

    /// <summary>
    /// The subjects' blind indexes: under the key in the custody <c>KeyCustody:BlindIndex:Provider</c> names (HMAC computed
    /// inside a PKCS#11 token), or, with <c>local</c>, the key file <paramref name="localFile"/> (created when <paramref name="createLocal"/>).
    /// </summary>
    public SubjectBlindIndex BlindIndex(string localFile, bool createLocal)
    {
        if (options.Value.ProviderOf(KeyPurpose.BlindIndex).Provider == CustodyProviders.Local)
        {
            return SubjectBlindIndex.Open(localFile, createLocal);
        }
        var custody = Get(KeyPurpose.BlindIndex, localFile);
        var keyId = custody.Keys[0].KeyId;
        return new SubjectBlindIndex(new MacSource(custody, keyId));
    }

    private sealed class MacSource(IKeyCustody custody, string keyId) : ISignatureSource
    {
        public byte[] Sign(ReadOnlySpan<byte> data) => custody.Sign(keyId, data);
    }

    /// <summary>A signing purpose's keys as the <see cref="IKeyRing"/> the signers use.</summary>
    public IKeyRing SigningRing(KeyPurpose purpose, string localDirectory) =>
        rings.GetOrAdd(purpose, p => new CustodyKeyRing(Get(p, localDirectory)));

    public void Dispose()
    {
        foreach (var custody in custodies.Values.Where(c => c.IsValueCreated))
        {
            custody.Value.Dispose();
        }
        if (token.IsValueCreated)
        {
            token.Value.Dispose();
        }
        if (vault.IsValueCreated)
        {
            vault.Value.Dispose();
        }
    }

    private IKeyCustody Open(KeyPurpose purpose, string localDirectory)
    {
        var settings = options.Value;
        var createMissing = settings.CreateMissing ?? !production;
        return settings.ProviderOf(purpose).Provider switch
        {
            CustodyProviders.Local => LocalKeyCustody.Open(purpose, localDirectory, time),
            CustodyProviders.Pkcs11 => new Pkcs11KeyCustody(token.Value, purpose, settings.Pkcs11.LabelPrefix, createMissing, time, settings.RefreshInterval),
            CustodyProviders.AzureKeyVault => new AzureKeyVaultCustody(vault.Value, purpose, settings.AzureKeyVault, createMissing, time, settings.RefreshInterval),
            var other => throw new KeyCustodyException($"{settings.ProviderOf(purpose).Setting} is '{other}'; use local, pkcs11 or azure-keyvault."),
        };
    }

    private static Pkcs11Token OpenToken(Pkcs11Options pkcs11)
    {
        var pin = pkcs11.PinFile is { Length: > 0 } file ? ReadPin(file) : Encoding.UTF8.GetBytes(pkcs11.Pin ?? string.Empty);
        try
        {
            return Pkcs11Token.Open(pkcs11.Library!, pkcs11.TokenLabel!, pin);
        }
        finally
        {
            Array.Clear(pin);
        }
    }

    private static byte[] ReadPin(string path)
    {
        SecureFiles.EnsureOwnerOnly(path, $"The PIN file '{path}' (KeyCustody:Pkcs11:PinFile)");
        using var reader = new StreamReader(path);
        return Encoding.UTF8.GetBytes(reader.ReadLine()?.Trim() ?? string.Empty);
    }
}

/// <summary>
/// Checks at start the settings of the purposes a service uses: a known provider, its settings present, a purpose the
/// provider can hold, and no <c>local</c> keys in Production. Each message names the setting.
/// </summary>
public sealed class KeyCustodyOptionsValidator(bool production, IReadOnlyList<KeyPurpose> used) : IValidateOptions<KeyCustodyOptions>
{
    public ValidateOptionsResult Validate(string? name, KeyCustodyOptions options)
    {
        var problems = new List<string>();
        foreach (var purpose in used)
        {
            var (provider, setting) = options.ProviderOf(purpose);
            switch (provider)
            {
                case CustodyProviders.Local when production && purpose == KeyPurpose.BlindIndex:
                    // Key Vault has no HMAC keys: a deployment without a module keeps the blind-index key as a file (which must exist).
                    break;
                case CustodyProviders.Local when production:
                    problems.Add($"{setting} is 'local' for the {purpose.Name()} key (keys in files on disk), which Production refuses: "
                        + $"set {KeyCustodyOptions.Section}:Provider or {KeyCustodyOptions.Section}:{purpose}:Provider to pkcs11 or azure-keyvault.");
                    break;
                case CustodyProviders.Local:
                    break;
                case CustodyProviders.Pkcs11:
                    if (string.IsNullOrWhiteSpace(options.Pkcs11.Library))
                    {
                        problems.Add($"{KeyCustodyOptions.Section}:Pkcs11:Library is required with {setting}=pkcs11 (the module, e.g. /usr/lib/softhsm/libsofthsm2.so).");
                    }
                    if (string.IsNullOrWhiteSpace(options.Pkcs11.TokenLabel))
                    {
                        problems.Add($"{KeyCustodyOptions.Section}:Pkcs11:TokenLabel is required with {setting}=pkcs11.");
                    }
                    if (string.IsNullOrEmpty(options.Pkcs11.Pin) == string.IsNullOrEmpty(options.Pkcs11.PinFile))
                    {
                        problems.Add($"Give one of {KeyCustodyOptions.Section}:Pkcs11:Pin and {KeyCustodyOptions.Section}:Pkcs11:PinFile with {setting}=pkcs11.");
                    }
                    break;
                case CustodyProviders.AzureKeyVault:
                    if (options.AzureKeyVault.VaultUri is not { Scheme: "https" })
                    {
                        problems.Add($"{KeyCustodyOptions.Section}:AzureKeyVault:VaultUri (https://NAME.vault.azure.net/) is required with {setting}=azure-keyvault.");
                    }
                    if (purpose == KeyPurpose.BlindIndex)
                    {
                        problems.Add($"{setting} is 'azure-keyvault' for the blind-index key, but Azure Key Vault has no HMAC keys: keep it in pkcs11 (or local outside Production).");
                    }
                    if (purpose == KeyPurpose.WebhookSigning)
                    {
                        problems.Add($"{setting} is 'azure-keyvault' for the webhook-signing key, but Azure Key Vault and Managed HSM have no Ed25519 keys: "
                            + "keep it in pkcs11 (or local outside Production).");
                    }
                    if (options.AzureKeyVault.Credential is not ("managed-identity" or "workload-identity" or "default"))
                    {
                        problems.Add($"{KeyCustodyOptions.Section}:AzureKeyVault:Credential must be managed-identity, workload-identity or default.");
                    }
                    break;
                default:
                    problems.Add($"{setting} is '{provider}'; use local, pkcs11 or azure-keyvault.");
                    break;
            }
        }
        if (options.RefreshInterval <= TimeSpan.Zero)
        {
            problems.Add($"{KeyCustodyOptions.Section}:RefreshInterval must be a positive time span, e.g. 00:00:30.");
        }
        return problems.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(problems.Distinct());
    }
}
