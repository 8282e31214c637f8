using System.Security.Cryptography;
using Azure.Core;
using Azure.Identity;
using Microsoft.Extensions.Time.Testing;
using TOEX.Sharing.KeyCustody.Azure;
using TOEX.Sharing.Sealing;

namespace TOEX.Sharing.KeyCustody.Tests;

/// <summary>
/// The azure-keyvault provider against <see cref="KeyVaultStandIn"/> (a local HTTPS stand-in; no real vault is reached),
/// authenticated by Azure.Identity's ManagedIdentityCredential through the stand-in's App Service identity endpoint.
/// </summary>
public sealed class AzureKeyVaultCustodyTests : IAsyncLifetime
{
    private readonly FakeTimeProvider clock = new(new DateTimeOffset(2026, 11, 25, 12, 0, 0, TimeSpan.Zero));
    private KeyVaultStandIn standIn = null!;
    private KeyVaultClient client = null!;

    public async Task InitializeAsync()
    {
        standIn = await KeyVaultStandIn.StartAsync();
        // What App Service sets for a managed identity; Azure.Identity (through MSAL) reads them.
        Environment.SetEnvironmentVariable("IDENTITY_ENDPOINT", standIn.IdentityEndpoint.AbsoluteUri);
        Environment.SetEnvironmentVariable("IDENTITY_HEADER", KeyVaultStandIn.IdentityHeader);
        client = new KeyVaultClient(standIn.VaultUri, "7.5", new ManagedIdentityCredential(ManagedIdentityId.SystemAssigned), standIn.Transport);
    }

    private AzureKeyVaultCustody Custody(KeyPurpose purpose, bool createMissing = true) =>
        new(client, purpose, new AzureKeyVaultOptions { VaultUri = standIn.VaultUri, KeyPrefix = "toex" }, createMissing, clock, TimeSpan.FromSeconds(30));

    [Fact]
    public void ES256_signatures_made_in_the_vault_verify_and_survive_a_rotation()
    {
        using var custody = Custody(KeyPurpose.TreeHeadSigning);
        var ring = new CustodyKeyRing(custody);
        var first = ring.Current;
        var before = first.SignData("head 1"u8);

        standIn.Advance(TimeSpan.FromDays(90));
        var rotated = custody.Rotate();
        var after = ring.Current.SignData("head 2"u8);

        Assert.NotEqual(first.KeyId, rotated.KeyId);
        Assert.Equal(rotated.KeyId, ring.Current.KeyId);
        Assert.Equal([rotated.KeyId, first.KeyId], custody.Keys.Select(k => k.KeyId));
        var jwks = custody.PublicJwks();
        using (var old = JsonWebKeys.FindVerificationKey(jwks, first.KeyId, "jwks")!)
        {
            Assert.True(old.VerifyData("head 1"u8, before, HashAlgorithmName.SHA256));
        }
        using var current = JsonWebKeys.FindVerificationKey(jwks, rotated.KeyId, "jwks")!;
        Assert.True(current.VerifyData("head 2"u8, after, HashAlgorithmName.SHA256));
        Assert.False(current.VerifyData("head 1"u8, after, HashAlgorithmName.SHA256));
        Assert.Equal(JsonWebKeys.Thumbprint(rotated.PublicJwk!), rotated.KeyId);
        Assert.True(standIn.Authorised > 0);
    }

    [Fact]
    public void A_data_key_wrapped_by_the_vault_unwraps_only_unaltered()
    {
        using var custody = Custody(KeyPurpose.DataAtRest);
        var dataKey = RandomNumberGenerator.GetBytes(32);

        var wrapped = custody.Wrap(dataKey);

        Assert.Equal("RSA-OAEP-256", wrapped.Algorithm);
        Assert.Equal(384, wrapped.Value.Length);
        Assert.Equal(dataKey, custody.Unwrap(wrapped));
        var altered = wrapped.Value.ToArray();
        altered[10] ^= 1;
        Assert.Throws<KeyCustodyException>(() => custody.Unwrap(wrapped with { Value = altered }));
        Assert.Null(custody.Keys[0].PublicJwk);
    }

    [Fact]
    public void A_request_without_the_identitys_token_is_refused_and_reported()
    {
        using var stranger = new KeyVaultClient(standIn.VaultUri, "7.5", new StrangerCredential(), standIn.Transport);
        using var custody = new AzureKeyVaultCustody(stranger, KeyPurpose.PackageSigning, new AzureKeyVaultOptions { VaultUri = standIn.VaultUri },
            createMissing: true, clock, TimeSpan.FromSeconds(30));

        var error = Assert.Throws<KeyCustodyException>(() => custody.Keys);

        Assert.Contains("401", error.Message, StringComparison.Ordinal);
        Assert.True(standIn.Refused > 0);
    }

    [Fact]
    public void Without_CreateMissing_a_missing_key_names_the_command_and_the_webhook_key_is_refused()
    {
        using var custody = Custody(KeyPurpose.DecisionSigning, createMissing: false);

        var missing = Assert.Throws<KeyCustodyException>(() => custody.Keys);
        var webhook = Assert.Throws<KeyCustodyException>(() => Custody(KeyPurpose.WebhookSigning));

        Assert.Contains("toex keys rotate --purpose decision-signing", missing.Message, StringComparison.Ordinal);
        Assert.Contains("Ed25519", webhook.Message, StringComparison.Ordinal);
    }

    public async Task DisposeAsync()
    {
        client.Dispose();
        await standIn.DisposeAsync();
    }

    /// <summary>A credential whose token the vault never issued.</summary>
    private sealed class StrangerCredential : TokenCredential
    {
        public override AccessToken GetToken(TokenRequestContext requestContext, CancellationToken cancellationToken) =>
            new("not-the-vaults-token", DateTimeOffset.UtcNow.AddHours(1));

        public override ValueTask<AccessToken> GetTokenAsync(TokenRequestContext requestContext, CancellationToken cancellationToken) =>
            ValueTask.FromResult(GetToken(requestContext, cancellationToken));
    }
}
