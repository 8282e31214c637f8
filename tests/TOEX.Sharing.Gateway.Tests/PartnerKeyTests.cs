using System.Net.Http.Json;
using System.Text.Json.Nodes;
using MassTransit.Testing;
using Microsoft.Extensions.DependencyInjection;
using TOEX.Sharing.Contracts;
using TOEX.Sharing.Sealing;

namespace TOEX.Sharing.Gateway.Tests;

/// <summary>The partner registry's keys as the gateway reads them: a change is picked up, a broken file fails its own partner only.</summary>
public sealed class PartnerKeyTests : IAsyncLifetime
{
    private readonly GatewayFactory _factory = new();
    private LocalKeyRing _decisionKeys = null!;

    public Task InitializeAsync()
    {
        _decisionKeys = _factory.TrustDecisionKeys();
        return Task.CompletedTask;
    }

    public Task DisposeAsync()
    {
        _decisionKeys.Dispose();
        _factory.Dispose();
        return Task.CompletedTask;
    }

    private async Task<Guid> SubmitAndDecideAsync(string reference)
    {
        var package = Packages.Load("rocuwm-2026-000124.json");
        package["reference"] = reference;
        var (id, submitted) = await _factory.SubmitAsync(package);
        await _factory.DeliverAsync(new SharingDecided { PackageId = id, DecisionJws = new DecisionSigner(_decisionKeys.Current).Sign(GatewayFactory.Decide(submitted)) });
        return id;
    }

    private async Task<JsonObject> RecipientAsync(Guid id, string partner)
    {
        var status = await _factory.ClientFor("rocu-wm", "Packages.Submit").GetFromJsonAsync<JsonObject>($"/api/v1/packages/{id}");
        return status!["recipients"]!.AsArray().Single(r => (string)r!["partner"]! == partner)!.AsObject();
    }

    private async Task<string?> SealedForAsync(string partner, Guid id)
    {
        var feed = await _factory.ClientFor(partner, "Feed.Read").GetFromJsonAsync<JsonObject>("/api/v1/feed?limit=500");
        return feed!["items"]!.AsArray().Where(i => (string)i!["packageId"]! == id.ToString()).Select(i => (string)i!["sealed"]!).SingleOrDefault();
    }

    private string BrokerJwks() => _factory.Services.GetRequiredService<IKeyRing>().PublicJwks();

    [Fact]
    public async Task A_malformed_key_file_fails_its_own_recipient_with_a_reason_in_the_ledger_and_the_others_are_released()
    {
        var wmp = _factory.RegisterPartnerKey("wmp");
        var staffs = _factory.RegisterPartnerKey("staffs");
        await File.WriteAllTextAsync(Path.Combine(_factory.PartnerKeysDirectory, "nca.jwks.json"), "{\"keys\": [{\"kty\": \"EC\"");

        var id = await SubmitAndDecideAsync("ROCUWM-2026-800001");

        Assert.NotNull(PackageOpener.Open((await SealedForAsync("wmp", id))!, wmp, BrokerJwks()));
        Assert.NotNull(PackageOpener.Open((await SealedForAsync("staffs", id))!, staffs, BrokerJwks()));
        Assert.Null(await SealedForAsync("nca", id));
        var nca = await RecipientAsync(id, "nca");
        Assert.Equal("failed", (string)nca["delivery"]!["state"]!);
        Assert.Contains("nca.jwks.json", (string)nca["delivery"]!["lastError"]!, StringComparison.Ordinal);
        var harness = _factory.Services.GetRequiredService<ITestHarness>();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        Assert.True(await harness.Published.Any<ReleaseFailed>(
            m => m.Context.Message.PackageId == id && m.Context.Message.Recipient == "nca" && m.Context.Message.Reason.Contains("nca.jwks.json"), timeout.Token));
    }

    [Fact]
    public async Task A_replaced_key_file_is_used_for_the_next_copy()
    {
        _factory.RegisterPartnerKey("wmp");
        _factory.RegisterPartnerKey("staffs");
        var before = _factory.RegisterPartnerKey("nca");
        var first = await SubmitAndDecideAsync("ROCUWM-2026-800002");
        Assert.NotNull(PackageOpener.Open((await SealedForAsync("nca", first))!, before, BrokerJwks()));

        // The partner registers a new key: its file is replaced in place.
        var replacement = KeyFiles.Generate(Path.Combine(_factory.Root, "nca-new"), KeyKind.Rsa, KeyUse.Encryption, "nca");
        File.Copy(replacement.PublicJwksPath, Path.Combine(_factory.PartnerKeysDirectory, "nca.jwks.json"), overwrite: true);
        var after = KeyFiles.ReadPrivateJwk(replacement.PrivateJwkPath);
        var second = await SubmitAndDecideAsync("ROCUWM-2026-800003");

        var sealedCopy = (await SealedForAsync("nca", second))!;
        Assert.NotNull(PackageOpener.Open(sealedCopy, after, BrokerJwks()));
        Assert.Throws<SealException>(() => PackageOpener.Open(sealedCopy, before, BrokerJwks()));
    }
}
