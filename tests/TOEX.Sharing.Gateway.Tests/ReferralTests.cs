using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using MassTransit;
using MassTransit.Testing;
using Microsoft.Extensions.DependencyInjection;
using TOEX.Sharing.Contracts;
using TOEX.Sharing.Policy;
using TOEX.Sharing.Sealing;
using TOEX.Sharing.Testing;

namespace TOEX.Sharing.Gateway.Tests;

/// <summary>Referred disclosures: held, then released or denied on an IG officer's decision (taken in the audit service).</summary>
public abstract class ReferralTests(StoreKind store) : IAsyncLifetime
{
    private static readonly DateTimeOffset At = GatewayFactory.At;
    private readonly GatewayFactory _factory = new(store: store);
    private LocalKeyRing _decisionKeys = null!;
    private LocalKeyRing _auditKeys = null!;
    private string _bccKey = null!;

    public Task InitializeAsync()
    {
        _decisionKeys = _factory.TrustDecisionKeys();
        _auditKeys = _factory.TrustAuditKeys();
        _bccKey = _factory.RegisterPartnerKey("bcc-childrens");
        return Task.CompletedTask;
    }

    public Task DisposeAsync()
    {
        _decisionKeys.Dispose();
        _auditKeys.Dispose();
        _factory.Dispose();
        return Task.CompletedTask;
    }

    /// <summary>An IG officer's decision as the audit service publishes it: signed with its keys (or, with <paramref name="signer"/>, another's).</summary>
    private ReferralDecided Decision(Guid packageId, Guid referralId, string decision, string officer = "rocu-wm/ig-officer-1",
        string justification = "Child at immediate risk; the council must act today.", string? person = null, LocalKeyRing? signer = null)
    {
        var signed = new SignedReferralDecision
        {
            ReferralId = referralId,
            PackageId = packageId,
            Originator = "rocu-wm",
            Recipient = "bcc-childrens",
            Agreement = "ISA-BCC-003",
            Decision = decision,
            DecidedBy = officer,
            DecidedByPerson = person ?? GatewayFactory.PersonOf(officer[(officer.IndexOf('/', StringComparison.Ordinal) + 1)..]),
            Justification = justification,
            DecidedAt = At.AddHours(1),
        };
        return new()
        {
            ReferralId = referralId,
            PackageId = packageId,
            Originator = "rocu-wm",
            Recipient = "bcc-childrens",
            Agreement = "ISA-BCC-003",
            Decision = decision,
            DecidedBy = officer,
            Justification = justification,
            DecidedAt = At.AddHours(1),
            DecisionJws = new ReferralDecisionSigner((signer ?? _auditKeys).Current).Sign(signed),
        };
    }

    /// <summary>Submits the special-category sample (a refer for bcc-childrens) as analyst-7 and delivers its decision.</summary>
    private async Task<(Guid PackageId, Guid ReferralId)> ReferredAsync()
    {
        var (id, submitted) = await _factory.SubmitAsync(Packages.Load("rocuwm-2026-000126.json"), subject: "analyst-7");
        var jws = new DecisionSigner(_decisionKeys.Current).Sign(GatewayFactory.Decide(submitted));
        await _factory.DeliverAsync(new SharingDecided { PackageId = id, DecisionJws = jws });

        var status = await _factory.ClientFor("rocu-wm", "Packages.Submit").GetFromJsonAsync<JsonObject>($"/api/v1/packages/{id}");
        return (id, Guid.Parse((string)status!["recipients"]![0]!["referral"]!["id"]!));
    }

    private async Task<JsonArray> BccFeedAsync() =>
        (await _factory.ClientFor("bcc-childrens", "Feed.Read").GetFromJsonAsync<JsonObject>("/api/v1/feed"))!["items"]!.AsArray();

    private async Task<JsonObject> RecipientAsync(Guid packageId) =>
        (await _factory.ClientFor("rocu-wm", "Packages.Submit").GetFromJsonAsync<JsonObject>($"/api/v1/packages/{packageId}"))!["recipients"]![0]!.AsObject();

    [Fact]
    public async Task Holds_a_referral_with_an_id_and_releases_nothing()
    {
        var (packageId, _) = await ReferredAsync();

        var recipient = await RecipientAsync(packageId);
        Assert.Equal("refer", (string)recipient["outcome"]!);
        Assert.Equal("awaiting-referral", (string)recipient["delivery"]!["state"]!);
        Assert.Null(recipient["referral"]!["decision"]);
        Assert.Empty(await BccFeedAsync());
    }

    [Fact]
    public async Task An_approval_releases_through_the_normal_flow_on_the_officers_authority()
    {
        var (packageId, referralId) = await ReferredAsync();

        await _factory.DeliverAsync(Decision(packageId, referralId, "approved"));

        var item = Assert.Single(await BccFeedAsync())!;
        var copy = JsonNode.Parse(PackageOpener.Open((string)item["sealed"]!, _bccKey, _factory.Services.GetRequiredService<IKeyRing>().PublicJwks()))!;
        Assert.Equal("ROCUWM-2026-000126", (string)copy["package"]!["reference"]!);
        Assert.False(copy["package"]!.AsObject().ContainsKey("sourceDetails"));
        var recipient = await RecipientAsync(packageId);
        Assert.Equal("permit", (string)recipient["outcome"]!);
        // Its feed read returned the copy: the recipient has it.
        Assert.Equal("delivered", (string)recipient["delivery"]!["state"]!);
        Assert.Equal("approved", (string)recipient["referral"]!["decision"]!);
        Assert.Equal("rocu-wm/ig-officer-1", (string)recipient["referral"]!["decidedBy"]!);
        var harness = _factory.Services.GetRequiredService<ITestHarness>();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        Assert.True(await harness.Published.AnyEventAsync<PackageReleased>(m => m.PackageId == packageId
            && m.AuthorisedBy == "ig-officer rocu-wm/ig-officer-1"
            && m.Justification == "Child at immediate risk; the council must act today.", timeout.Token));
    }

    [Fact]
    public async Task An_approval_racing_a_recall_is_ordered_by_the_writer_and_never_leaves_the_recipient_the_package()
    {
        var (packageId, referralId) = await ReferredAsync();

        // Both are changes of the gateway's one writer, handed over at once (they may share a transaction): whichever it
        // applies first, the other reads the outcome. Approval first: released, then withdrawn by the recall. Recall first:
        // the approval releases nothing.
        var approval = _factory.DeliverAsync(Decision(packageId, referralId, "approved"));
        var recalling = _factory.ClientFor("rocu-wm", "Packages.Submit").PostAsync($"/api/v1/packages/{packageId}/recall",
            Packages.Json(new JsonObject { ["reason"] = "Source compromised; withdraw every copy." }));
        await Task.WhenAll(approval, recalling);
        var recall = await recalling;

        Assert.Equal(HttpStatusCode.Accepted, recall.StatusCode);
        var accepted = (await recall.Content.ReadFromJsonAsync<JsonObject>())!;
        Assert.Empty(await BccFeedAsync());
        var recipient = await RecipientAsync(packageId);
        var state = (string)recipient["delivery"]!["state"]!;
        var withdrawn = accepted["withdrawn"]!.AsArray().Select(n => (string)n!).ToList();
        Assert.Empty(accepted["notified"]!.AsArray());
        if (state == "withdrawn")
        {
            Assert.Equal(["bcc-childrens"], withdrawn);
            Assert.Equal("approved", (string)recipient["referral"]!["decision"]!);
        }
        else
        {
            Assert.Equal("withheld", state);
            Assert.Empty(withdrawn);
            Assert.Null(recipient["referral"]!["decision"]);
        }
        Assert.Equal("recalled", (string)(await _factory.ClientFor("rocu-wm", "Packages.Submit")
            .GetFromJsonAsync<JsonObject>($"/api/v1/packages/{packageId}"))!["status"]!);
    }

    [Fact]
    public async Task A_rejection_denies_and_releases_nothing()
    {
        var (packageId, referralId) = await ReferredAsync();

        await _factory.DeliverAsync(Decision(packageId, referralId, "rejected", justification: "Not necessary: the council already holds this."));

        Assert.Empty(await BccFeedAsync());
        var recipient = await RecipientAsync(packageId);
        Assert.Equal("deny", (string)recipient["outcome"]!);
        Assert.Equal("withheld", (string)recipient["delivery"]!["state"]!);
        Assert.Equal("rejected", (string)recipient["referral"]!["decision"]!);
    }

    [Fact]
    public async Task A_referral_is_decided_once()
    {
        var (packageId, referralId) = await ReferredAsync();

        await _factory.DeliverAsync(Decision(packageId, referralId, "approved"));
        await _factory.DeliverAsync(Decision(packageId, referralId, "rejected", "rocu-wm/ig-officer-2", "Changed my mind."));
        await _factory.DeliverAsync(Decision(packageId, referralId, "approved"));

        Assert.Single(await BccFeedAsync());
        var recipient = await RecipientAsync(packageId);
        Assert.Equal("approved", (string)recipient["referral"]!["decision"]!);
        Assert.Equal("rocu-wm/ig-officer-1", (string)recipient["referral"]!["decidedBy"]!);
    }

    [Fact]
    public async Task Refuses_an_approval_by_the_identity_that_submitted_the_package()
    {
        var (packageId, referralId) = await ReferredAsync();

        await _factory.DeliverAsync(Decision(packageId, referralId, "approved", officer: "rocu-wm/analyst-7"));

        Assert.Empty(await BccFeedAsync());
        Assert.Null((await RecipientAsync(packageId))["referral"]!["decision"]);
    }

    [Fact]
    public async Task Refuses_an_approval_by_the_submitter_as_a_person_whatever_subject_the_token_carried()
    {
        var (packageId, referralId) = await ReferredAsync();

        // Entra gives one person a different 'sub' in each application: the person (tenant and object id) is what counts.
        await _factory.DeliverAsync(Decision(packageId, referralId, "approved", officer: "rocu-wm/other-app-subject", person: GatewayFactory.PersonOf("analyst-7")));

        Assert.Empty(await BccFeedAsync());
        Assert.Null((await RecipientAsync(packageId))["referral"]!["decision"]);
    }

    [Fact]
    public async Task An_unsigned_or_forged_referral_decision_releases_nothing()
    {
        var (packageId, referralId) = await ReferredAsync();
        using var forger = LocalKeyRing.OpenOrCreate(Path.Combine(_factory.Root, "forger"), TimeProvider.System);

        await _factory.DeliverAsync(Decision(packageId, referralId, "approved") with { DecisionJws = null });
        await _factory.DeliverAsync(Decision(packageId, referralId, "approved", signer: forger));
        // A genuine rejection's signature under an approval's plain fields: the signed decision is the one acted on.
        await _factory.DeliverAsync(Decision(packageId, referralId, "rejected") with { Decision = "approved" });

        Assert.Empty(await BccFeedAsync());
        var recipient = await RecipientAsync(packageId);
        Assert.Equal("rejected", (string)recipient["referral"]!["decision"]!);
        Assert.Equal("withheld", (string)recipient["delivery"]!["state"]!);
    }

    [Fact]
    public async Task Ignores_a_decision_that_names_another_package()
    {
        var (packageId, referralId) = await ReferredAsync();

        await _factory.DeliverAsync(Decision(Guid.NewGuid(), referralId, "approved"));

        Assert.Empty(await BccFeedAsync());
        Assert.Equal("awaiting-referral", (string)(await RecipientAsync(packageId))["delivery"]!["state"]!);
    }
}

public sealed class ReferralTestsOnSqlite() : ReferralTests(StoreKind.Sqlite);

public sealed class ReferralTestsOnPostgreSql() : ReferralTests(StoreKind.PostgreSql);
