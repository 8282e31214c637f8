using System.Net.Http.Json;
using System.Text.Json.Nodes;
using MassTransit.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using TOEX.Sharing.Contracts;
using TOEX.Sharing.Sealing;
using TOEX.Sharing.ServiceDefaults;

namespace TOEX.Sharing.Gateway.Tests;

/// <summary>
/// The partner registry's keys as the gateway reads them: a change is picked up, a broken file fails its own partner only;
/// a key set with a lifecycle (not-before, expiry, revocation), changed through the API by an operator or by the partner
/// proving possession of its current key, each change recorded for the ledger.
/// </summary>
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
        Assert.True(await harness.Published.AnyEventAsync<ReleaseFailed>(
            m => m.PackageId == id && m.Recipient == "nca" && m.Reason.Contains("nca.jwks.json"), timeout.Token));
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

    private HttpClient Operator() => _factory.ClientFor(GatewayFactory.Operator, Roles.DeliveriesOperate);

    private HttpClient Partner(string partner) => _factory.ClientFor(partner, Roles.FeedRead);

    private async Task<bool> PublishedAsync<T>(Func<T, bool> match) where T : class
    {
        var harness = _factory.Services.GetRequiredService<ITestHarness>();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        return await harness.Published.AnyEventAsync(match, timeout.Token);
    }

    private static async Task<JsonObject> ProblemAsync(HttpResponseMessage response, System.Net.HttpStatusCode status)
    {
        Assert.Equal(status, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        return (await response.Content.ReadFromJsonAsync<JsonObject>())!;
    }

    private static string KeyIdOf(string privateJwk) => (string)JsonNode.Parse(privateJwk)!["kid"]!;

    private void RegisterOthers()
    {
        _factory.RegisterPartnerKey("wmp");
        _factory.RegisterPartnerKey("staffs");
    }

    [Fact]
    public async Task An_operator_registers_a_partners_new_key_the_next_copy_is_sealed_to_it_and_the_change_is_recorded()
    {
        RegisterOthers();
        var before = _factory.RegisterPartnerKey("nca");
        var (jwk, after) = _factory.NewPartnerKey("nca", KeyKind.Rsa);

        var registered = await Operator().PostAsJsonAsync("/api/v1/operations/partners/nca/keys",
            new JsonObject { ["key"] = jwk.DeepClone(), ["reason"] = "The partner rotated its key by telephone." });

        Assert.Equal(System.Net.HttpStatusCode.Created, registered.StatusCode);
        var view = await Operator().GetFromJsonAsync<JsonObject>("/api/v1/operations/partners/nca/keys");
        Assert.Equal(KeyIdOf(after), (string)view!["current"]!);
        Assert.Equal(2, view["keys"]!.AsArray().Count);
        Assert.True(await PublishedAsync<PartnerKeyRegistered>(m => m.Partner == "nca" && m.KeyId == KeyIdOf(after)
            && m.Authority == PartnerKeyAuthority.Operator && m.Reason == "The partner rotated its key by telephone."
            && m.RegisteredBy == $"{GatewayFactory.Operator}/{GatewayFactory.Operator}-tester" && m.KeyType == "RSA 3072"));

        var id = await SubmitAndDecideAsync("ROCUWM-2026-800011");
        var sealedCopy = (await SealedForAsync("nca", id))!;
        Assert.NotNull(PackageOpener.Open(sealedCopy, after, BrokerJwks()));
        Assert.Throws<SealException>(() => PackageOpener.Open(sealedCopy, before, BrokerJwks()));
    }

    [Fact]
    public async Task A_partner_registers_its_own_key_by_proving_possession_of_its_current_key_and_for_itself_only()
    {
        var clock = new FakeTimeProvider(TimeProvider.System.GetUtcNow());
        _factory.Time = clock;
        var current = _factory.RegisterPartnerKey("nca");
        _factory.RegisterPartnerKey("staffs");
        var (jwk, next) = _factory.NewPartnerKey("nca");
        var challenge = await Partner("nca").PostAsJsonAsync("/api/v1/partners/nca/keys/challenge",
            new JsonObject { ["action"] = "register", ["key"] = jwk.DeepClone() });
        Assert.Equal(System.Net.HttpStatusCode.OK, challenge.StatusCode);
        var issued = (await challenge.Content.ReadFromJsonAsync<JsonObject>())!;
        Assert.Equal(KeyIdOf(current), (string)issued["sealedTo"]!);
        var proof = KeyPossession.Answer((string)issued["challenge"]!, current, BrokerJwks());
        // The registration comes seconds after the challenge: a default not-before ("from registration") is the same intent.
        clock.Advance(TimeSpan.FromSeconds(2));

        // Another partner cannot register a key for nca, even with nca's proof: nca's keys do not exist for it.
        var stranger = await Partner("staffs").PostAsJsonAsync("/api/v1/partners/nca/keys", new JsonObject { ["key"] = jwk.DeepClone(), ["proof"] = proof });
        Assert.Equal(System.Net.HttpStatusCode.NotFound, stranger.StatusCode);
        // The proof is good for this registration only.
        var (other, _) = _factory.NewPartnerKey("nca");
        var wrong = await ProblemAsync(await Partner("nca").PostAsJsonAsync("/api/v1/partners/nca/keys",
            new JsonObject { ["key"] = other, ["proof"] = proof }), System.Net.HttpStatusCode.BadRequest);
        Assert.NotNull(wrong["errors"]!["proof"]);

        var registered = await Partner("nca").PostAsJsonAsync("/api/v1/partners/nca/keys", new JsonObject { ["key"] = jwk.DeepClone(), ["proof"] = proof });

        Assert.True(registered.StatusCode == System.Net.HttpStatusCode.Created, await registered.Content.ReadAsStringAsync());
        var current2 = KeyIdOf(next);
        var view = await Partner("nca").GetFromJsonAsync<JsonObject>("/api/v1/partners/nca/keys");
        Assert.Equal(current2, (string)view!["current"]!);
        var thumbprint = (string)view["keys"]!.AsArray().Single(k => (string)k!["keyId"]! == KeyIdOf(current))!["thumbprint"]!;
        Assert.True(await PublishedAsync<PartnerKeyRegistered>(m => m.Partner == "nca" && m.KeyId == current2
            && m.Authority == PartnerKeyAuthority.Partner && m.ProvedWith == thumbprint && m.RegisteredBy == "nca/nca-tester"));

        // With its new key current, the partner revokes the old one, proving possession of the new.
        var revoking = await Partner("nca").PostAsJsonAsync("/api/v1/partners/nca/keys/challenge",
            new JsonObject { ["action"] = "revoke", ["keyId"] = KeyIdOf(current) });
        var revocation = (await revoking.Content.ReadFromJsonAsync<JsonObject>())!;
        Assert.Equal(current2, (string)revocation["sealedTo"]!);
        var revoked = await Partner("nca").PostAsJsonAsync($"/api/v1/partners/nca/keys/{KeyIdOf(current)}/revoke",
            new JsonObject { ["proof"] = KeyPossession.Answer((string)revocation["challenge"]!, next, BrokerJwks()) });
        Assert.True(revoked.StatusCode == System.Net.HttpStatusCode.OK, await revoked.Content.ReadAsStringAsync());
        Assert.True(await PublishedAsync<PartnerKeyRevoked>(m => m.Partner == "nca" && m.KeyId == KeyIdOf(current)
            && m.Authority == PartnerKeyAuthority.Partner && m.RevokedBy == "nca/nca-tester"));
    }

    [Fact]
    public async Task Bad_input_is_refused_with_a_problem_naming_the_field()
    {
        _factory.RegisterPartnerKey("nca");
        var (jwk, _) = _factory.NewPartnerKey("nca");

        var noReason = await ProblemAsync(await Operator().PostAsJsonAsync("/api/v1/operations/partners/nca/keys",
            new JsonObject { ["key"] = jwk.DeepClone() }), System.Net.HttpStatusCode.BadRequest);
        Assert.NotNull(noReason["errors"]!["reason"]);
        var symmetric = await ProblemAsync(await Operator().PostAsJsonAsync("/api/v1/operations/partners/nca/keys",
            new JsonObject { ["key"] = new JsonObject { ["kty"] = "oct", ["k"] = "c2VjcmV0" }, ["reason"] = "Testing." }), System.Net.HttpStatusCode.BadRequest);
        Assert.NotNull(symmetric["errors"]!["key"]);
        var withPrivate = jwk.DeepClone().AsObject();
        withPrivate["d"] = "AAAA";
        var privateKey = await ProblemAsync(await Operator().PostAsJsonAsync("/api/v1/operations/partners/nca/keys",
            new JsonObject { ["key"] = withPrivate, ["reason"] = "Testing." }), System.Net.HttpStatusCode.BadRequest);
        Assert.NotNull(privateKey["errors"]!["key"]);
        var past = await ProblemAsync(await Operator().PostAsJsonAsync("/api/v1/operations/partners/nca/keys",
            new JsonObject { ["key"] = jwk.DeepClone(), ["reason"] = "Testing.", ["expires"] = "2020-01-01T00:00:00Z" }), System.Net.HttpStatusCode.BadRequest);
        Assert.NotNull(past["errors"]!["expires"]);
        var action = await ProblemAsync(await Partner("nca").PostAsJsonAsync("/api/v1/partners/nca/keys/challenge",
            new JsonObject { ["action"] = "replace" }), System.Net.HttpStatusCode.BadRequest);
        Assert.NotNull(action["errors"]!["action"]);
        var noProof = await ProblemAsync(await Partner("nca").PostAsJsonAsync("/api/v1/partners/nca/keys",
            new JsonObject { ["key"] = jwk.DeepClone() }), System.Net.HttpStatusCode.BadRequest);
        Assert.NotNull(noProof["errors"]!["proof"]);
        // Nothing was registered.
        var view = await Operator().GetFromJsonAsync<JsonObject>("/api/v1/operations/partners/nca/keys");
        Assert.Single(view!["keys"]!.AsArray());
    }

    [Fact]
    public async Task A_revoked_key_is_never_used_and_a_partner_left_without_a_valid_key_gets_nothing_with_the_reason()
    {
        RegisterOthers();
        var only = _factory.RegisterPartnerKey("nca");
        var kid = KeyIdOf(only);

        var revoked = await Operator().PostAsJsonAsync($"/api/v1/operations/partners/nca/keys/{kid}/revoke",
            new JsonObject { ["reason"] = "The partner reported the key compromised." });

        Assert.Equal(System.Net.HttpStatusCode.OK, revoked.StatusCode);
        Assert.Equal("revoked", (string)(await revoked.Content.ReadFromJsonAsync<JsonObject>())!["state"]!);
        Assert.True(await PublishedAsync<PartnerKeyRevoked>(m => m.Partner == "nca" && m.KeyId == kid && m.Authority == PartnerKeyAuthority.Operator));
        var again = await ProblemAsync(await Operator().PostAsJsonAsync($"/api/v1/operations/partners/nca/keys/{kid}/revoke",
            new JsonObject { ["reason"] = "Twice." }), System.Net.HttpStatusCode.Conflict);
        Assert.Contains("key-revoked", (string)again["type"]!, StringComparison.Ordinal);
        // The revoked key cannot come back.
        var reRegister = await Operator().PostAsJsonAsync("/api/v1/operations/partners/nca/keys",
            new JsonObject { ["key"] = PublicOf(only), ["reason"] = "Restore it." });
        Assert.Equal(System.Net.HttpStatusCode.Conflict, reRegister.StatusCode);

        var id = await SubmitAndDecideAsync("ROCUWM-2026-800012");

        Assert.Null(await SealedForAsync("nca", id));
        Assert.NotNull(await SealedForAsync("wmp", id));
        var nca = await RecipientAsync(id, "nca");
        Assert.Equal("failed", (string)nca["delivery"]!["state"]!);
        Assert.Contains($"key '{kid}' is revoked", (string)nca["delivery"]!["lastError"]!, StringComparison.Ordinal);
        Assert.True(await PublishedAsync<ReleaseFailed>(m => m.PackageId == id && m.Recipient == "nca" && m.Reason.Contains("is revoked", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task An_expired_or_not_yet_valid_key_is_never_used_the_newest_valid_key_is_and_with_none_the_reason_is_given()
    {
        RegisterOthers();
        var now = TimeProvider.System.GetUtcNow();
        var (validJwk, valid) = _factory.NewPartnerKey("nca");
        var (expiredJwk, expired) = _factory.NewPartnerKey("nca");
        var (futureJwk, future) = _factory.NewPartnerKey("nca");
        expiredJwk["exp"] = now.AddDays(-1).ToUnixTimeSeconds();
        futureJwk["nbf"] = now.AddDays(30).ToUnixTimeSeconds();
        var file = Path.Combine(_factory.PartnerKeysDirectory, "nca.jwks.json");
        await File.WriteAllTextAsync(file, new JsonObject { ["keys"] = new JsonArray(validJwk, expiredJwk, futureJwk) }.ToJsonString());

        var first = await SubmitAndDecideAsync("ROCUWM-2026-800013");

        var sealedCopy = (await SealedForAsync("nca", first))!;
        Assert.NotNull(PackageOpener.Open(sealedCopy, valid, BrokerJwks()));
        Assert.Throws<SealException>(() => PackageOpener.Open(sealedCopy, expired, BrokerJwks()));
        Assert.Throws<SealException>(() => PackageOpener.Open(sealedCopy, future, BrokerJwks()));
        var view = await Partner("nca").GetFromJsonAsync<JsonObject>("/api/v1/partners/nca/keys");
        Assert.Equal(["valid", "expired", "not-yet-valid"], view!["keys"]!.AsArray().Select(k => (string)k!["state"]!));

        // The valid key expires too: nothing is sealed to nca, and its status and the ledger say why.
        validJwk["exp"] = now.AddSeconds(-1).ToUnixTimeSeconds();
        await File.WriteAllTextAsync(file, new JsonObject { ["keys"] = new JsonArray(validJwk.DeepClone(), expiredJwk.DeepClone(), futureJwk.DeepClone()) }.ToJsonString());
        var second = await SubmitAndDecideAsync("ROCUWM-2026-800014");

        Assert.Null(await SealedForAsync("nca", second));
        var nca = await RecipientAsync(second, "nca");
        Assert.Equal("failed", (string)nca["delivery"]!["state"]!);
        var reason = (string)nca["delivery"]!["lastError"]!;
        Assert.Contains("No valid encryption key", reason, StringComparison.Ordinal);
        Assert.Contains($"key '{KeyIdOf(expired)}' expired at", reason, StringComparison.Ordinal);
        Assert.Contains($"key '{KeyIdOf(future)}' is not valid before", reason, StringComparison.Ordinal);
        Assert.True(await PublishedAsync<ReleaseFailed>(m => m.PackageId == second && m.Recipient == "nca" && m.Reason.Contains("No valid encryption key", StringComparison.Ordinal)));
    }

    private static JsonObject PublicOf(string privateJwk)
    {
        var jwk = JsonNode.Parse(privateJwk)!.AsObject();
        foreach (var member in new[] { "d", "p", "q", "dp", "dq", "qi" })
        {
            jwk.Remove(member);
        }
        return jwk;
    }
}
