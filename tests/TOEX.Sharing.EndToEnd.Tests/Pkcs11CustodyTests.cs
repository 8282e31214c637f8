using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using TOEX.Sharing.Cli.Tests;
using TOEX.Sharing.KeyCustody;
using TOEX.Sharing.KeyCustody.Pkcs11;
using TOEX.Sharing.Sealing;
using TOEX.Sharing.Testing;

namespace TOEX.Sharing.EndToEnd.Tests;

/// <summary>The three services with every signing key (and the data-at-rest key) in this run's SoftHSM2 token.</summary>
public sealed class Pkcs11Services : RunningServices
{
    protected override string KeyCustody => "pkcs11";
}

/// <summary>
/// End to end with keys in a PKCS#11 token: copies, decisions, tree heads and webhooks are signed inside the token;
/// a rotation made in the token is used for new signatures while everything signed before still verifies; and no
/// private key material exists outside the token.
/// </summary>
public sealed class Pkcs11CustodyTests(Pkcs11Services stack) : IClassFixture<Pkcs11Services>, IDisposable
{
    private static readonly KeyPurpose[] Signing = [KeyPurpose.PackageSigning, KeyPurpose.DecisionSigning, KeyPurpose.TreeHeadSigning, KeyPurpose.WebhookSigning];

    private readonly Pkcs11Token token = Pkcs11Token.Open(SoftHsm.Instance.Library, SoftHsm.TokenLabel, Encoding.UTF8.GetBytes(SoftHsm.UserPin));

    private Pkcs11KeyCustody InToken(KeyPurpose purpose) =>
        new(token, purpose, stack.Pkcs11LabelPrefix, createMissing: false, TimeProvider.System, TimeSpan.FromMilliseconds(1));

    [Fact]
    public async Task Copies_decisions_and_tree_heads_signed_before_and_after_a_rotation_in_the_token_all_verify()
    {
        // Before: the services made their keys in the token, and publish exactly those.
        var (firstId, firstCopy) = await SubmitAndReadNcaCopyAsync("ROCUWM-2026-900001");
        using (var package = InToken(KeyPurpose.PackageSigning))
        using (var webhook = InToken(KeyPurpose.WebhookSigning))
        using (var treeHeads = InToken(KeyPurpose.TreeHeadSigning))
        using (var decisions = InToken(KeyPurpose.DecisionSigning))
        {
            Assert.Equal(package.Keys.Select(k => k.KeyId), KeyIds(await stack.BrokerJwksAsync()));
            Assert.Equal(webhook.Keys.Select(k => k.KeyId), KeyIds(await new HttpClient { BaseAddress = stack.Gateway }.GetStringAsync("/.well-known/webhook-jwks.json")));
            Assert.Equal(treeHeads.Keys.Select(k => k.KeyId), KeyIds(await new HttpClient { BaseAddress = stack.Audit }.GetStringAsync("/.well-known/jwks.json")));
            Assert.Equal(decisions.Keys.Select(k => k.KeyId), KeyIds(await File.ReadAllTextAsync(Path.Combine(stack.Root, "policy-decision.jwks.json"))));
            Assert.Equal("OKP", (string?)JsonNode.Parse(webhook.Keys[0].PublicJwk!)!["kty"]);
        }
        var firstSigner = PackageOpener.OpenPackage(firstCopy, stack.PartnerPrivateKeys["nca"], await stack.BrokerJwksAsync()).SignerKeyId;
        var firstBundle = await ExportAsync("bundle-before.json");

        // The rotation, as an operator makes it in the token (toex keys rotate does the same).
        var rotated = new Dictionary<KeyPurpose, string>();
        foreach (var purpose in new[] { KeyPurpose.PackageSigning, KeyPurpose.DecisionSigning, KeyPurpose.TreeHeadSigning })
        {
            using var custody = InToken(purpose);
            rotated[purpose] = custody.Rotate().KeyId;
        }
        await stack.EventuallyAsync(async () => KeyIds(await stack.BrokerJwksAsync()).FirstOrDefault() == rotated[KeyPurpose.PackageSigning] ? "" : null,
            "the gateway to publish the new package key");

        // After: new signatures name the new keys.
        var (secondId, secondCopy) = await SubmitAndReadNcaCopyAsync("ROCUWM-2026-900002");
        var jwks = await stack.BrokerJwksAsync();
        Assert.Equal([rotated[KeyPurpose.PackageSigning], firstSigner], KeyIds(jwks));
        Assert.Equal(rotated[KeyPurpose.PackageSigning], PackageOpener.OpenPackage(secondCopy, stack.PartnerPrivateKeys["nca"], jwks).SignerKeyId);
        Assert.Equal(firstSigner, PackageOpener.OpenPackage(firstCopy, stack.PartnerPrivateKeys["nca"], jwks).SignerKeyId);

        // Decisions: the new decision names the new key, the old one the old key; the gateway (which released both copies)
        // and the ledger (a verified "decision" entry for each) verified both against the published decision keys.
        var decisionJwks = await File.ReadAllTextAsync(Path.Combine(stack.Root, "policy-decision.jwks.json"));
        Assert.Equal(rotated[KeyPurpose.DecisionSigning], KeyIds(decisionJwks)[0]);
        Assert.Equal(2, KeyIds(decisionJwks).Count);
        Assert.Equal(rotated[KeyPurpose.DecisionSigning], await DecisionSignerAsync(secondId));
        Assert.NotEqual(rotated[KeyPurpose.DecisionSigning], await DecisionSignerAsync(firstId));
        foreach (var id in new[] { firstId, secondId })
        {
            await stack.EventuallyAsync(async () =>
            {
                using var auditor = stack.Client(stack.Audit, "rocu-wm", "Audit.Read");
                var page = (await auditor.GetFromJsonAsync<JsonObject>($"/api/v1/audit/entries?package={id}&type=decision"))!;
                return page["items"]!.AsArray().Count > 0 ? page : null;
            }, $"a verified decision entry for {id}");
        }

        // Tree heads: the head signed before and the head signed after both verify offline against the audit JWKS.
        await stack.EventuallyAsync(async () =>
            KeyIds(await new HttpClient { BaseAddress = stack.Audit }.GetStringAsync("/.well-known/jwks.json")).FirstOrDefault() == rotated[KeyPurpose.TreeHeadSigning] ? "" : null,
            "the audit service to publish the new tree-head key");
        var secondBundle = await ExportAsync("bundle-after.json");
        var auditJwks = Path.Combine(stack.Root, "audit.jwks.json");
        await File.WriteAllTextAsync(auditJwks, await new HttpClient { BaseAddress = stack.Audit }.GetStringAsync("/.well-known/jwks.json"));
        Assert.NotEqual(rotated[KeyPurpose.TreeHeadSigning], (string?)JsonNode.Parse(await File.ReadAllTextAsync(firstBundle))!["treeHead"]!["keyId"]);
        Assert.Equal(rotated[KeyPurpose.TreeHeadSigning], (string?)JsonNode.Parse(await File.ReadAllTextAsync(secondBundle))!["treeHead"]!["keyId"]);
        foreach (var bundle in new[] { firstBundle, secondBundle })
        {
            var verified = await Toex.RunAsync(["audit", "verify", "--bundle", bundle, "--jwks", auditJwks]);
            Assert.True(verified.ExitCode == 0, verified.ToString());
        }
    }

    [Fact]
    public async Task No_private_key_material_exists_outside_the_token()
    {
        await SubmitAndReadNcaCopyAsync("ROCUWM-2026-900003");

        // In the token: every private and secret key is sensitive and was never extractable.
        foreach (var purpose in Signing.Append(KeyPurpose.DataAtRest).Append(KeyPurpose.BlindIndex))
        {
            using var custody = InToken(purpose);
            if (purpose == KeyPurpose.DataAtRest)
            {
                custody.Rotate();
            }
            var keys = custody.SecretKeyAttributes();
            Assert.NotEmpty(keys);
            Assert.All(keys, key => Assert.True(key.Sensitive && !key.Extractable && key.AlwaysSensitive && key.NeverExtractable,
                $"{purpose} {key.KeyId}: sensitive {key.Sensitive}, extractable {key.Extractable}"));
        }

        // Outside it: no key folder of a service, and no private JWK member or PEM private key in any file the services
        // wrote (stores, logs, published key sets). The partners' own keys and the test identity provider's are not the broker's.
        Assert.False(Directory.Exists(Path.Combine(stack.Root, "keys", "broker")));
        Assert.False(Directory.Exists(Path.Combine(stack.Root, "keys", "audit")));
        Assert.False(Directory.Exists(Path.Combine(stack.Root, "keys", "policy-decision")));
        Assert.False(Directory.Exists(Path.Combine(stack.Root, "keys", "webhook")));
        Assert.False(File.Exists(Path.Combine(stack.Root, "keys", "blind-index.key")));
        var excluded = new[] { stack.PartnerKeysDirectory, Path.Combine(stack.Root, "dev-issuer") };
        var searched = 0;
        foreach (var file in Directory.EnumerateFiles(stack.Root, "*", SearchOption.AllDirectories)
            .Where(f => !excluded.Any(d => f.StartsWith(d + Path.DirectorySeparatorChar, StringComparison.Ordinal))))
        {
            var text = Encoding.Latin1.GetString(await ReadSharedAsync(file));
            searched++;
            Assert.False(text.Contains("\"d\":", StringComparison.Ordinal) || text.Contains("\"d\" :", StringComparison.Ordinal), $"{file} holds a private JWK member");
            Assert.DoesNotContain("PRIVATE KEY", text, StringComparison.Ordinal);
            Assert.DoesNotContain(".private.jwk", Path.GetFileName(file), StringComparison.Ordinal);
        }
        Assert.True(searched > 3, $"only {searched} files were searched");
    }

    public void Dispose() => token.Dispose();

    private static List<string> KeyIds(string jwks) => [.. JsonNode.Parse(jwks)!["keys"]!.AsArray().Select(k => (string)k!["kid"]!)];

    /// <summary>Submits sample 124 under a fresh reference and returns its id and the copy nca (a pull partner) reads from its feed.</summary>
    private async Task<(Guid Id, string Sealed)> SubmitAndReadNcaCopyAsync(string reference)
    {
        var sample = JsonNode.Parse(await File.ReadAllTextAsync(Path.Combine(RepoPaths.Root, "deploy", "samples", "rocuwm-2026-000124.json")))!;
        sample["reference"] = reference;
        using var originator = stack.Client(stack.Gateway, "rocu-wm", "Packages.Submit");
        var response = await originator.PostAsync("/api/v1/packages", new StringContent(sample.ToJsonString(), Encoding.UTF8, "application/json"));
        Assert.True(response.StatusCode == HttpStatusCode.Accepted, $"{response.StatusCode} {await response.Content.ReadAsStringAsync()}");
        var id = Guid.Parse((string)(await RunningServices.ReadJsonAsync(response))["id"]!);
        using var nca = stack.Client(stack.Gateway, "nca", "Feed.Read");
        var copy = await stack.EventuallyAsync(async () =>
            (await nca.GetFromJsonAsync<JsonObject>("/api/v1/feed?limit=500"))!["items"]!.AsArray()
                .FirstOrDefault(item => (string?)item!["packageId"] == id.ToString() && (string?)item["kind"] == "package") is { } item
                ? (string)item["sealed"]! : null,
            $"nca's copy of {reference}");
        return (id, copy);
    }

    /// <summary>The key id in the header of the decision the gateway stored for a package (what PolicyDecision signed it with).</summary>
    private async Task<string> DecisionSignerAsync(Guid packageId)
    {
        await using var store = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={Path.Combine(stack.Root, "gateway.db")};Mode=ReadOnly");
        await store.OpenAsync();
        await using var query = store.CreateCommand();
        query.CommandText = """SELECT "DecisionJws" FROM "Submissions" WHERE lower("Id") = lower($id)""";
        query.Parameters.AddWithValue("$id", packageId.ToString());
        var jws = (string?)await query.ExecuteScalarAsync();
        var header = JsonNode.Parse(System.Buffers.Text.Base64Url.DecodeFromChars(jws!.Split('.')[0]))!;
        return (string)header["kid"]!;
    }

    private async Task<string> ExportAsync(string name)
    {
        using var custodian = stack.Client(stack.Audit, "rocu-wm", "Audit.Read");
        var path = Path.Combine(stack.Root, name);
        await File.WriteAllTextAsync(path, await custodian.GetStringAsync("/api/v1/audit/export"));
        return path;
    }

    private static async Task<byte[]> ReadSharedAsync(string file)
    {
        await using var stream = new FileStream(file, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        using var buffer = new MemoryStream();
        await stream.CopyToAsync(buffer);
        return buffer.ToArray();
    }
}
