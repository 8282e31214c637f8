using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using MassTransit;
using TOEX.Sharing.Contracts;
using TOEX.Sharing.Sealing;
using TOEX.Sharing.Testing;

namespace TOEX.Sharing.Audit.Tests;

/// <summary>Referral approvals by API: listed, approved or rejected with a justification, once, never by the submitter.</summary>
public abstract class ReferralsApiTests(StoreKind store) : IDisposable
{
    private readonly AuditFactory _factory = new(store);

    public void Dispose()
    {
        _factory.Dispose();
        GC.SuppressFinalize(this);
    }

    private HttpClient Officer(string subject = "ig-officer-1", string organisation = "rocu-wm") =>
        _factory.ClientAs(organisation, subject, "Disclosures.Approve");

    private static StringContent Body(string? justification) => new(
        (justification is null ? new JsonObject() : new JsonObject { ["justification"] = justification }).ToJsonString(),
        Encoding.UTF8, "application/json");

    /// <summary>A package submitted by rocu-wm/analyst-4471 and referred for bcc-childrens (a verified decision).</summary>
    private async Task<(Guid PackageId, Guid ReferralId)> ReferredAsync(int minutesAfter = 1)
    {
        var packageId = NewId.NextGuid();
        await _factory.DeliverAsync(Events.Submitted(packageId, "rocu-wm", Events.At, ["bcc-childrens"]));
        await _factory.DeliverAsync(new SharingDecided
        {
            PackageId = packageId,
            DecisionJws = new DecisionSigner(_factory.DecisionKeys.Current).Sign(
                Events.Decision(packageId, Events.At.AddMinutes(minutesAfter), Events.Refer("bcc-childrens", "ISA-BCC-003"))),
        });
        var list = await Officer().GetFromJsonAsync<JsonObject>("/api/v1/referrals");
        var item = list!["items"]!.AsArray().Single(i => Guid.Parse((string)i!["packageId"]!) == packageId)!;
        return (packageId, Guid.Parse((string)item["id"]!));
    }

    [Fact]
    public async Task Every_referral_is_kept_when_its_decision_is_appended_in_a_group_with_others()
    {
        // Decisions consumed at once are appended by one writer in one transaction (group commit): each referral
        // (saved with its decision's entries) and each submission's subject indexes must be in that transaction too.
        var referred = await Task.WhenAll(Enumerable.Range(0, 16).Select(i => ReferredAsync(i + 1)));

        var listed = await _factory.ClientFor("rocu-wm", "Disclosures.Approve").GetFromJsonAsync<JsonObject>("/api/v1/referrals");

        Assert.Equal(referred.Select(r => r.ReferralId.ToString()).Order(),
            listed!["items"]!.AsArray().Select(i => (string)i!["id"]!).Order());
    }

    [Fact]
    public async Task Lists_referrals_oldest_first_to_the_originators_officers_with_their_reasons()
    {
        // Referred in the opposite order to their ids' chance ordering: the list follows the referral time.
        var (second, _) = await ReferredAsync(minutesAfter: 5);
        var (first, _) = await ReferredAsync(minutesAfter: 2);

        var own = await Officer().GetFromJsonAsync<JsonObject>("/api/v1/referrals");
        var other = await Officer(organisation: "wmp").GetFromJsonAsync<JsonObject>("/api/v1/referrals");
        var withoutRole = await _factory.ClientFor("rocu-wm", "Audit.Read").GetAsync("/api/v1/referrals");

        var items = own!["items"]!.AsArray();
        Assert.Equal([first, second], items.Select(i => Guid.Parse((string)i!["packageId"]!)));
        Assert.Equal("REFER_SPECIAL_CATEGORY", (string)items[0]!["reasons"]![0]!["code"]!);
        Assert.Equal("rocu-wm/analyst-4471", (string)items[0]!["submittedBy"]!);
        Assert.Empty(other!["items"]!.AsArray());
        Assert.Equal(HttpStatusCode.Forbidden, withoutRole.StatusCode);
    }

    [Fact]
    public async Task An_approval_is_published_for_the_gateway_with_the_officer_and_justification_and_leaves_the_list()
    {
        var (packageId, referralId) = await ReferredAsync();

        var response = await Officer().PostAsync($"/api/v1/referrals/{referralId}/approve", Body("Child at immediate risk."));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        Assert.True(await _factory.Harness.Published.Any<ReferralDecided>(m => m.Context.Message.ReferralId == referralId
            && m.Context.Message.PackageId == packageId && m.Context.Message.Decision == "approved"
            && m.Context.Message.DecidedBy == "rocu-wm/ig-officer-1" && m.Context.Message.Justification == "Child at immediate risk.", timeout.Token));
        Assert.Empty((await Officer().GetFromJsonAsync<JsonObject>("/api/v1/referrals"))!["items"]!.AsArray());

        // What the gateway acts on: the decision signed with the audit service's keys, naming the officer as a person.
        var published = _factory.Harness.Published.Select<ReferralDecided>(m => m.Context.Message.ReferralId == referralId).First().Context.Message;
        var jwks = await File.ReadAllTextAsync(Path.Combine(_factory.Root, "audit.jwks.json"));
        using var verifier = new ReferralDecisionVerifier(jwks);
        var signed = verifier.Verify(published.DecisionJws!);
        Assert.Equal((referralId, packageId, "approved", "rocu-wm/ig-officer-1", "Child at immediate risk."),
            (signed.ReferralId, signed.PackageId, signed.Decision, signed.DecidedBy, signed.Justification));
        Assert.Equal($"{DevIssuer.Issuer}|ig-officer-1", signed.DecidedByPerson);
    }

    [Fact]
    public async Task A_referral_decided_twice_is_answered_409()
    {
        var (_, referralId) = await ReferredAsync();
        var first = await Officer().PostAsync($"/api/v1/referrals/{referralId}/reject", Body("Not necessary."));

        var second = await Officer("ig-officer-2").PostAsync($"/api/v1/referrals/{referralId}/approve", Body("Necessary."));

        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        Assert.Equal(HttpStatusCode.Conflict, second.StatusCode);
        Assert.Equal("application/problem+json", second.Content.Headers.ContentType!.MediaType);
    }

    [Fact]
    public async Task The_identity_that_submitted_a_package_cannot_approve_its_referral()
    {
        var (_, referralId) = await ReferredAsync();

        var response = await Officer("analyst-4471").PostAsync($"/api/v1/referrals/{referralId}/approve", Body("It is fine."));

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.Single((await Officer().GetFromJsonAsync<JsonObject>("/api/v1/referrals"))!["items"]!.AsArray());
    }

    [Theory]
    [InlineData(null)]
    [InlineData("  ")]
    [InlineData("Approved.\nIgnore the line above")]
    [InlineData("Approved \u202Eevorppa ton")]
    [InlineData("Approved\u0007")]
    public async Task A_decision_needs_a_justification_of_plain_text(string? justification)
    {
        var (_, referralId) = await ReferredAsync();

        var response = await Officer().PostAsync($"/api/v1/referrals/{referralId}/approve", Body(justification));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var errors = (await response.Content.ReadFromJsonAsync<JsonObject>())!["errors"]!.AsObject();
        Assert.Contains("justification", errors.Select(e => e.Key));
    }

    [Fact]
    public async Task Another_organisations_referral_is_not_found()
    {
        var (_, referralId) = await ReferredAsync();

        var response = await Officer(organisation: "wmp").PostAsync($"/api/v1/referrals/{referralId}/approve", Body("Looks fine."));

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
    }

    [Fact]
    public async Task The_officers_decision_is_in_the_ledger()
    {
        var (packageId, referralId) = await ReferredAsync();
        await Officer().PostAsync($"/api/v1/referrals/{referralId}/approve", Body("Child at immediate risk."));
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        Assert.True(await _factory.Harness.Consumed.Any<ReferralDecided>(m => m.Context.Message.ReferralId == referralId, timeout.Token));

        var entries = await _factory.LedgerAsync();

        var entry = Assert.Single(entries, e => e.Type == "referral-approved");
        Assert.Equal(packageId, entry.PackageId);
        Assert.Equal("rocu-wm/ig-officer-1", entry.Actor);
        Assert.Equal("Child at immediate risk.", entry.Justification);
    }
}

public sealed class ReferralsApiTestsOnSqlite() : ReferralsApiTests(StoreKind.Sqlite);

public sealed class ReferralsApiTestsOnPostgreSql() : ReferralsApiTests(StoreKind.PostgreSql);
