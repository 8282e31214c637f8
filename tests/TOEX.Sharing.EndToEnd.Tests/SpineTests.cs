using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using TOEX.Sharing.Sealing;
using TOEX.Sharing.Testing;

namespace TOEX.Sharing.EndToEnd.Tests;

/// <summary>
/// Submit → decide → seal → feed → audit with the gateway, PolicyDecision and the audit worker as
/// separate processes on a real RabbitMQ, for the four sample packages of <c>deploy/samples</c>.
/// </summary>
public sealed class SpineTests(RunningServices stack) : IClassFixture<RunningServices>
{
    /// <summary>What each recipient of each sample must be decided at 2026-11-25T12:00:00Z.</summary>
    private static readonly (string File, string Recipient, string Outcome, string? Agreement)[] Expected =
    [
        ("rocuwm-2026-000123.json", "bcc-childrens", "permit", "ISA-BCC-003"),
        ("rocuwm-2026-000123.json", "wmp", "deny", "DSA-POLICE-001"),
        ("rocuwm-2026-000124.json", "wmp", "permit", "DSA-POLICE-001"),
        ("rocuwm-2026-000124.json", "staffs", "permit", "DSA-POLICE-001"),
        ("rocuwm-2026-000124.json", "nca", "permit", "DSA-NCA-002"),
        ("rocuwm-2026-000125.json", "safe-haven", "permit", "ISA-SH-006"),
        ("rocuwm-2026-000125.json", "bsol-nhs-safeguarding", "deny", "ISA-NHS-004"),
        ("rocuwm-2026-000125.json", "border-force-mids", "deny", "DSA-BF-005"),
        ("rocuwm-2026-000125.json", "acme-logistics", "deny", null),
        ("rocuwm-2026-000126.json", "bcc-childrens", "refer", "ISA-BCC-003"),
    ];

    /// <summary>The fields of the package wire format (v1) other than recipients.</summary>
    private static readonly string[] WireFields =
        ["reference", "originator", "classification", "handlingCode", "handlingConditions", "sourceEvaluation",
         "intelligenceAssessment", "purpose", "lawfulBasis", "statutoryGateways", "dataCategories", "sensitiveCondition",
         "originatorConsentRequired", "subjects", "summary", "body", "sourceDetails", "moRiLE", "reviewDate"];

    /// <summary>What a recipient that is not a competent authority never sees (DOMAIN.md), besides subject identifiers.</summary>
    private static readonly string[] Withheld = ["sourceEvaluation", "intelligenceAssessment", "sourceDetails", "moRiLE"];

    private static readonly string[] Samples = [.. Expected.Select(e => e.File).Distinct()];

    private async Task<Dictionary<string, Guid>> SubmitSamplesAsync()
    {
        using var client = stack.Client(stack.Gateway, "rocu-wm", "Packages.Submit");
        var ids = new Dictionary<string, Guid>();
        foreach (var file in Samples)
        {
            var json = await File.ReadAllTextAsync(Path.Combine(RepoPaths.Root, "deploy", "samples", file));
            var response = await client.PostAsync("/api/v1/packages", new StringContent(json, Encoding.UTF8, "application/json"));
            Assert.True(response.StatusCode == HttpStatusCode.Accepted, $"{file}: {response.StatusCode} {await response.Content.ReadAsStringAsync()}");
            ids[file] = Guid.Parse((string)(await RunningServices.ReadJsonAsync(response))["id"]!);
        }
        return ids;
    }

    private async Task<JsonObject> DecidedAsync(HttpClient client, Guid id) =>
        await stack.EventuallyAsync(async () =>
        {
            var status = await client.GetFromJsonAsync<JsonObject>($"/api/v1/packages/{id}");
            return (string?)status?["status"] == "decided" ? status : null;
        }, $"package {id} to be decided");

    [Fact]
    public async Task Each_recipient_receives_exactly_what_its_agreement_allows_and_the_ledger_records_every_step()
    {
        var ids = await SubmitSamplesAsync();
        using var originator = stack.Client(stack.Gateway, "rocu-wm", "Packages.Submit");

        // 1. Per-recipient outcomes, as the policy set decides them.
        foreach (var file in Samples)
        {
            var status = await DecidedAsync(originator, ids[file]);
            var recipients = status["recipients"]!.AsArray().ToDictionary(r => (string)r!["partner"]!, r => r!.AsObject());
            foreach (var expected in Expected.Where(e => e.File == file))
            {
                var recipient = recipients[expected.Recipient];
                Assert.True((string?)recipient["outcome"] == expected.Outcome,
                    $"{file} → {expected.Recipient}: expected {expected.Outcome}, got {recipient.ToJsonString()}");
                Assert.Equal(expected.Agreement, (string?)recipient["agreement"]);
                var state = (string)recipient["delivery"]!["state"]!;
                Assert.Equal(expected.Outcome switch { "permit" => "released", "refer" => "awaiting-referral", _ => "withheld" }, state);
            }
        }

        // 2. Each permitted copy on the right feed only, opening with that recipient's key to exactly the allowed fields.
        var jwks = await stack.BrokerJwksAsync();
        var permitted = Expected.Where(e => e.Outcome == "permit").ToList();
        var feeds = new Dictionary<string, JsonArray>();
        foreach (var partner in RunningServices.Partners.Append("acme-logistics"))
        {
            using var reader = stack.Client(stack.Gateway, partner, "Feed.Read");
            var page = await reader.GetFromJsonAsync<JsonObject>("/api/v1/feed?limit=500");
            var items = new JsonArray([.. page!["items"]!.AsArray()
                .Where(i => ids.ContainsValue(Guid.Parse((string)i!["packageId"]!))).Select(i => i!.DeepClone())]);
            feeds[partner] = items;
            var expected = permitted.Where(p => p.Recipient == partner).Select(p => ids[p.File]).Order().ToList();
            Assert.True(expected.SequenceEqual(items.Select(i => Guid.Parse((string)i!["packageId"]!)).Order()),
                $"{partner}'s feed: expected {expected.Count} package(s), got {items.ToJsonString()}");
        }

        foreach (var (file, partner, _, agreement) in permitted)
        {
            var item = feeds[partner].Single(i => Guid.Parse((string)i!["packageId"]!) == ids[file])!;
            var copy = JsonNode.Parse(PackageOpener.Open((string)item["sealed"]!, stack.PartnerPrivateKeys[partner], jwks))!.AsObject();
            Assert.Equal(partner, (string)copy["recipient"]!);
            Assert.Equal(agreement, (string)copy["agreement"]!);
            var package = copy["package"]!.AsObject();
            var original = JsonNode.Parse(await File.ReadAllTextAsync(Path.Combine(RepoPaths.Root, "deploy", "samples", file)))!.AsObject();
            var competent = partner is "wmp" or "staffs" or "nca";
            Assert.False(package.ContainsKey("recipients"), "a copy never names the other recipients");
            Assert.All(package.Select(p => p.Key), key => Assert.Contains(key, WireFields));
            foreach (var (key, value) in original.Where(p => p.Key != "recipients" && p.Value is not null))
            {
                if (!competent && Withheld.Contains(key))
                {
                    Assert.False(package.ContainsKey(key), $"{partner} must not see {key}");
                }
                else if (key != "subjects")
                {
                    Assert.True(JsonNode.DeepEquals(value, package[key]), $"{partner}'s {key} differs from the original");
                }
            }
            var subjects = package["subjects"]!.AsArray().Select(s => s!.AsObject()).ToList();
            var originalSubjects = original["subjects"]!.AsArray().Select(s => s!.AsObject()).ToList();
            Assert.Equal(originalSubjects.Count, subjects.Count);
            for (var i = 0; i < subjects.Count; i++)
            {
                Assert.Equal((string)originalSubjects[i]["name"]!, (string)subjects[i]["name"]!);
                Assert.Equal(competent && originalSubjects[i].ContainsKey("identifiers"), subjects[i].ContainsKey("identifiers"));
            }

            // A copy sealed for this partner does not open with any other partner's key.
            var other = partner == "safe-haven" ? "bcc-childrens" : "safe-haven";
            Assert.Throws<SealException>(() => PackageOpener.Open((string)item["sealed"]!, stack.PartnerPrivateKeys[other], jwks));
        }

        // bcc-childrens' copy of the example carries the obligations of ISA-BCC-003.
        var bccItem = feeds["bcc-childrens"].Single()!;
        var bccCopy = JsonNode.Parse(PackageOpener.Open((string)bccItem["sealed"]!, stack.PartnerPrivateKeys["bcc-childrens"], jwks))!;
        Assert.Equal("2027-11-25", (string)bccCopy["retainUntil"]!);
        Assert.True((bool)bccCopy["noOnwardSharing"]!);
        Assert.True((bool)bccCopy["acknowledgementRequired"]!);
        Assert.Equal(2, bccCopy["handlingConditions"]!.AsArray().Count);

        // 3. Nothing on a denied recipient's feed.
        foreach (var denied in new[] { "bsol-nhs-safeguarding", "border-force-mids", "acme-logistics", "rocu-wm" })
        {
            Assert.Empty(feeds[denied]);
        }

        // 4. The ledger holds submission, decision and release entries for each package.
        using var auditor = stack.Client(stack.Audit, "rocu-wm", "Audit.Read");
        foreach (var file in Samples)
        {
            var id = ids[file];
            var releases = permitted.Count(p => p.File == file);
            var recipients = Expected.Count(e => e.File == file);
            var entries = await stack.EventuallyAsync(async () =>
            {
                var page = await auditor.GetFromJsonAsync<JsonObject>($"/api/v1/audit/entries?package={id}");
                var items = page!["items"]!.AsArray();
                return items.Count(i => (string)i!["type"]! == "release") == releases ? items : null;
            }, $"the ledger entries of {file}");
            Assert.Single(entries, e => (string)e!["type"]! == "submission");
            Assert.Equal(recipients, entries.Count(e => (string)e!["type"]! == "decision"));
            foreach (var entry in entries.Where(e => (string)e!["type"]! == "release"))
            {
                Assert.Contains("purpose", (string)entry!["justification"]!, StringComparison.Ordinal);
                Assert.Matches("^[0-9a-f]{64}$", (string)entry["leafHash"]!);
            }
            var serialised = entries.ToJsonString();
            Assert.DoesNotContain("Jane Example", serialised, StringComparison.Ordinal);
        }

        // 5. Every disclosure about Jane Example, found through the blind indexes the gateway computed with the shared key.
        var about = (await auditor.GetFromJsonAsync<JsonObject>("/api/v1/audit/subjects?name=JANE%20EXAMPLE&dateOfBirth=2010-03-14&limit=1000"))!
            ["items"]!.AsArray();
        var byPnc = (await auditor.GetFromJsonAsync<JsonObject>("/api/v1/audit/subjects?pnc=2010/0123456X&limit=1000"))!["items"]!.AsArray();
        Assert.Equal([ids["rocuwm-2026-000123.json"]], about.Select(e => Guid.Parse((string)e!["packageId"]!)).Distinct());
        // Push attempts to bcc-childrens' placeholder endpoint (webhook-*) are about the package too; they come and go with timing.
        Assert.Equal(["decision", "release", "submission"], about.Select(e => (string)e!["type"]!)
            .Where(t => t != "consultation" && !t.StartsWith("webhook-", StringComparison.Ordinal)).Distinct().Order());
        Assert.Equal(about.Select(e => (long)e!["index"]!), byPnc.Select(e => (long)e!["index"]!));
    }

    [Fact]
    public async Task A_partner_reads_its_own_feed_only_and_an_originator_its_own_packages_only()
    {
        var ids = await SubmitSamplesAsync();
        using var originator = stack.Client(stack.Gateway, "rocu-wm", "Packages.Submit");
        await DecidedAsync(originator, ids["rocuwm-2026-000123.json"]);

        using var wmp = stack.Client(stack.Gateway, "wmp", "Packages.Submit", "Feed.Read");
        var notTheirs = await wmp.GetAsync($"/api/v1/packages/{ids["rocuwm-2026-000123.json"]}");
        var ackOther = await wmp.PostAsync($"/api/v1/feed/{ids["rocuwm-2026-000123.json"]}/ack", null);
        using var anonymous = new HttpClient { BaseAddress = stack.Gateway };
        var noToken = await anonymous.GetAsync("/api/v1/feed");

        Assert.Equal(HttpStatusCode.NotFound, notTheirs.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, ackOther.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, noToken.StatusCode);
    }

    [Fact]
    public async Task A_token_from_a_real_OIDC_issuer_submits_a_package_and_its_recipient_reads_it_with_another()
    {
        var package = JsonNode.Parse(await File.ReadAllTextAsync(Path.Combine(RepoPaths.Root, "deploy", "samples", "rocuwm-2026-000125.json")))!.AsObject();
        package["reference"] = "ROCUWM-2026-000901";
        using var originator = new HttpClient { BaseAddress = stack.Gateway };
        originator.DefaultRequestHeaders.Authorization = new("Bearer", await stack.Oidc.TokenAsync("rocu-wm-analytics"));

        var submitted = await originator.PostAsync("/api/v1/packages", new StringContent(package.ToJsonString(), Encoding.UTF8, "application/json"));
        Assert.True(submitted.StatusCode == HttpStatusCode.Accepted, $"{submitted.StatusCode} {await submitted.Content.ReadAsStringAsync()}");
        var id = Guid.Parse((string)(await RunningServices.ReadJsonAsync(submitted))["id"]!);
        var status = await DecidedAsync(originator, id);
        Assert.Equal("permit", (string)status["recipients"]!.AsArray().Single(r => (string)r!["partner"]! == "safe-haven")!["outcome"]!);

        using var recipient = new HttpClient { BaseAddress = stack.Gateway };
        recipient.DefaultRequestHeaders.Authorization = new("Bearer", await stack.Oidc.TokenAsync("safe-haven-case-system"));
        var item = await stack.EventuallyAsync(async () =>
        {
            var feed = await recipient.GetFromJsonAsync<JsonObject>("/api/v1/feed?limit=500");
            return feed!["items"]!.AsArray().FirstOrDefault(i => (string)i!["packageId"]! == id.ToString());
        }, "the package on safe-haven's feed");
        Assert.Equal("package", (string)item["kind"]!);

        // The same issuer is not trusted to speak for wmp: its token for a wmp client is refused.
        using var notTrusted = new HttpClient { BaseAddress = stack.Gateway };
        notTrusted.DefaultRequestHeaders.Authorization = new("Bearer", await stack.Oidc.TokenAsync("wmp-records"));
        Assert.Equal(HttpStatusCode.Unauthorized, (await notTrusted.GetAsync("/api/v1/feed")).StatusCode);
    }

    [Fact]
    public async Task An_IG_officers_approval_at_the_audit_service_releases_a_referred_package_to_its_recipient()
    {
        // Its own package (the special-category sample under another reference), so the other tests' feeds are unchanged.
        var package = JsonNode.Parse(await File.ReadAllTextAsync(Path.Combine(RepoPaths.Root, "deploy", "samples", "rocuwm-2026-000126.json")))!;
        package["reference"] = "ROCUWM-2026-900126";
        using var originator = stack.Client(stack.Gateway, "rocu-wm", "Packages.Submit");
        var submitted = await originator.PostAsync("/api/v1/packages", new StringContent(package.ToJsonString(), Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.Accepted, submitted.StatusCode);
        var packageId = Guid.Parse((string)(await RunningServices.ReadJsonAsync(submitted))["id"]!);
        await DecidedAsync(originator, packageId);
        using var officer = stack.ClientAs(stack.Audit, "rocu-wm", "ig-officer-e2e", "Disclosures.Approve");

        var referral = await stack.EventuallyAsync(async () =>
        {
            var page = await officer.GetFromJsonAsync<JsonObject>("/api/v1/referrals");
            return page!["items"]!.AsArray().FirstOrDefault(i => Guid.Parse((string)i!["packageId"]!) == packageId)?.AsObject();
        }, "the referral to be listed");
        var approve = await officer.PostAsync($"/api/v1/referrals/{(string)referral["id"]!}/approve",
            new StringContent("{\"justification\":\"Child at risk; the council must assess today.\"}", Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.OK, approve.StatusCode);

        using var bcc = stack.Client(stack.Gateway, "bcc-childrens", "Feed.Read");
        var item = await stack.EventuallyAsync(async () =>
        {
            var page = await bcc.GetFromJsonAsync<JsonObject>("/api/v1/feed?limit=500");
            return page!["items"]!.AsArray().FirstOrDefault(i => Guid.Parse((string)i!["packageId"]!) == packageId)?.AsObject();
        }, "the approved copy on bcc-childrens' feed");
        var copy = JsonNode.Parse(PackageOpener.Open((string)item["sealed"]!, stack.PartnerPrivateKeys["bcc-childrens"], await stack.BrokerJwksAsync()))!;
        Assert.Equal("ROCUWM-2026-900126", (string)copy["package"]!["reference"]!);

        using var auditor = stack.Client(stack.Audit, "rocu-wm", "Audit.Read");
        var entries = await stack.EventuallyAsync(async () =>
        {
            var page = await auditor.GetFromJsonAsync<JsonObject>($"/api/v1/audit/entries?package={packageId}");
            var items = page!["items"]!.AsArray();
            return items.Any(e => (string)e!["type"]! == "release") ? items : null;
        }, "the approval's release in the ledger");
        Assert.Contains(entries, e => (string)e!["type"]! == "referral-approved" && (string)e["actor"]! == "rocu-wm/ig-officer-e2e");
        Assert.Contains(entries, e => (string)e!["type"]! == "release" && ((string)e["actor"]!).Contains("ig-officer", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Bodies_over_each_services_limit_are_refused_before_they_are_read()
    {
        // The audit service takes a justification of at most 4,000 characters: a 100 KiB body never reaches it.
        using var officer = stack.Client(stack.Audit, "rocu-wm", "Disclosures.Approve");
        var body = new JsonObject { ["justification"] = new string('x', 100 * 1024) }.ToJsonString();
        var audit = await officer.PostAsync($"/api/v1/referrals/{Guid.NewGuid()}/approve", new StringContent(body, Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, audit.StatusCode);
        Assert.Equal("application/problem+json", audit.Content.Headers.ContentType?.MediaType);

        using var originator = stack.Client(stack.Gateway, "rocu-wm", "Packages.Submit");
        var package = new JsonObject { ["summary"] = new string('x', 1100 * 1024) }.ToJsonString();
        var gateway = await originator.PostAsync("/api/v1/packages", new StringContent(package, Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, gateway.StatusCode);
        Assert.Equal("application/problem+json", gateway.Content.Headers.ContentType?.MediaType);
    }
}
