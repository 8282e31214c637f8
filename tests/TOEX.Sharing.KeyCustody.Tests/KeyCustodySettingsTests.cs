using System.Security.Cryptography;
using Microsoft.Extensions.Time.Testing;

namespace TOEX.Sharing.KeyCustody.Tests;

/// <summary>The settings checked at start, and the local (development) custody.</summary>
public sealed class KeyCustodySettingsTests : IDisposable
{
    private readonly string directory = Directory.CreateTempSubdirectory("toex-custody-").FullName;
    private readonly FakeTimeProvider clock = new(new DateTimeOffset(2026, 11, 25, 12, 0, 0, TimeSpan.Zero));

    [Fact]
    public void Production_refuses_local_keys_naming_the_setting_that_chose_them()
    {
        var options = new KeyCustodyOptions { Provider = "pkcs11", PackageSigning = { Provider = "local" },
            Pkcs11 = { Library = "/usr/lib/softhsm/libsofthsm2.so", TokenLabel = "t", PinFile = "/run/secrets/pin" } };

        var production = new KeyCustodyOptionsValidator(production: true, [KeyPurpose.PackageSigning, KeyPurpose.WebhookSigning]).Validate(null, options);
        var development = new KeyCustodyOptionsValidator(production: false, [KeyPurpose.PackageSigning, KeyPurpose.WebhookSigning]).Validate(null, options);
        var byDefault = new KeyCustodyOptionsValidator(production: true, [KeyPurpose.TreeHeadSigning]).Validate(null, new KeyCustodyOptions());

        Assert.True(production.Failed);
        Assert.Contains("KeyCustody:PackageSigning:Provider is 'local'", production.FailureMessage, StringComparison.Ordinal);
        Assert.DoesNotContain("WebhookSigning", production.FailureMessage, StringComparison.Ordinal);
        Assert.True(development.Succeeded);
        Assert.Contains("KeyCustody:Provider is 'local' for the tree-head-signing key", byDefault.FailureMessage, StringComparison.Ordinal);
    }

    [Fact]
    public void Missing_provider_settings_and_an_Ed25519_key_in_a_vault_are_refused_each_named()
    {
        var pkcs11 = new KeyCustodyOptionsValidator(false, [KeyPurpose.DecisionSigning]).Validate(null, new KeyCustodyOptions { Provider = "pkcs11" });
        var vault = new KeyCustodyOptionsValidator(false, [KeyPurpose.WebhookSigning]).Validate(null,
            new KeyCustodyOptions { Provider = "azure-keyvault", AzureKeyVault = { VaultUri = new Uri("http://vault.example/") } });
        var unknown = new KeyCustodyOptionsValidator(false, [KeyPurpose.DataAtRest]).Validate(null, new KeyCustodyOptions { DataAtRest = { Provider = "hsm" } });

        Assert.Contains("KeyCustody:Pkcs11:Library is required", pkcs11.FailureMessage, StringComparison.Ordinal);
        Assert.Contains("KeyCustody:Pkcs11:TokenLabel is required", pkcs11.FailureMessage, StringComparison.Ordinal);
        Assert.Contains("KeyCustody:Pkcs11:Pin and KeyCustody:Pkcs11:PinFile", pkcs11.FailureMessage, StringComparison.Ordinal);
        Assert.Contains("KeyCustody:AzureKeyVault:VaultUri", vault.FailureMessage, StringComparison.Ordinal);
        Assert.Contains("no Ed25519 keys", vault.FailureMessage, StringComparison.Ordinal);
        Assert.Contains("KeyCustody:DataAtRest:Provider is 'hsm'", unknown.FailureMessage, StringComparison.Ordinal);
    }

    [Fact]
    public void Local_data_keys_wrap_with_the_current_key_and_unwrap_after_a_rotation()
    {
        using var custody = LocalKeyCustody.Open(KeyPurpose.DataAtRest, Path.Combine(directory, "data-at-rest"), clock);
        var dataKey = RandomNumberGenerator.GetBytes(32);
        var before = custody.Wrap(dataKey);

        var rotated = custody.Rotate();
        var after = custody.Wrap(dataKey);

        Assert.Equal(rotated.KeyId, after.KeyId);
        Assert.NotEqual(before.KeyId, after.KeyId);
        Assert.Equal(dataKey, custody.Unwrap(before));
        Assert.Equal(dataKey, custody.Unwrap(after));
        Assert.Throws<KeyCustodyException>(() => custody.Unwrap(after with { KeyId = before.KeyId }));
        Assert.Equal("""{"keys":[]}""", custody.PublicJwks());
        if (!OperatingSystem.IsWindows())
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite,
                File.GetUnixFileMode(Path.Combine(directory, "data-at-rest", LocalKeyCustody.WrappingKeysFileName)));
        }
    }

    public void Dispose() => Directory.Delete(directory, recursive: true);
}
