using Microsoft.Extensions.DependencyInjection;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using MassTransit;
using TOEX.Sharing.Audit.Data;
using TOEX.Sharing.Contracts;
using TOEX.Sharing.Sealing;
using TOEX.Sharing.Testing;

namespace TOEX.Sharing.Audit.Tests;

/// <summary>The audit consumers, driven through MassTransit's test harness, and the ledger they write.</summary>
public abstract class LedgerConsumerTests(StoreKind store) : IDisposable
{
    private readonly AuditFactory _factory = new(store);

    public void Dispose()
    {
        _factory.Dispose();
        GC.SuppressFinalize(this);
    }

    private Task DeliverAsync<T>(T message, Guid? messageId = null, string delivery = "1") where T : class =>
        _factory.DeliverAsync(message, messageId, delivery);

    private static JsonObject Detail(LedgerEntry entry) => JsonNode.Parse(entry.Canonical)!["detail"]!.AsObject();

    private static List<string> Recipients(LedgerEntry entry) => ToexJson.Deserialize<List<string>>(entry.RecipientsJson);

    [Fact]
    public async Task Records_a_submission_with_who_why_and_for_whom()
    {
        var packageId = NewId.NextGuid();

        await DeliverAsync(Events.Submitted(packageId, new DateOnly(2010, 3, 14)));

        var entry = Assert.Single(await _factory.LedgerAsync());
        Assert.Equal(0, entry.Index);
        Assert.Equal("submission", entry.Type);
        Assert.Equal(packageId, entry.PackageId);
        Assert.Equal("rocu-wm", entry.Originator);
        Assert.Equal("rocu-wm/analyst-4471", entry.Actor);
        Assert.Equal(Events.At.ToUnixTimeMilliseconds(), entry.AtUnixMs);
        Assert.Equal("purpose safeguarding-children; lawful basis DPA2018-Part3:s35(2)(b); gateways CA2004:s11", entry.Justification);
        Assert.Equal(["bcc-childrens", "wmp"], Recipients(entry));
        Assert.Null(entry.Partner);
        Assert.Null(entry.Outcome);
        Assert.Equal("sha256:5e1f", (string)Detail(entry)["contentHash"]!);
        Assert.Equal(1, (int)Detail(entry)["subjectCount"]!);
    }

    [Fact]
    public async Task Records_a_signed_decision_once_per_recipient_as_verified()
    {
        var packageId = NewId.NextGuid();
        var jws = new DecisionSigner(_factory.DecisionKeys.Current).Sign(Events.Decision(packageId));

        await DeliverAsync(new SharingDecided { PackageId = packageId, DecisionJws = jws });

        var entries = await _factory.LedgerAsync();
        Assert.Equal(2, entries.Count);
        Assert.All(entries, e =>
        {
            Assert.Equal("decision", e.Type);
            Assert.Equal(packageId, e.PackageId);
            Assert.Equal(Events.At.AddMinutes(1).ToUnixTimeMilliseconds(), e.AtUnixMs);
            Assert.True((bool)Detail(e)["signatureVerified"]!);
            Assert.Null(Detail(e)["signatureProblem"]);
            Assert.Equal("sha256:c067", (string)Detail(e)["policyVersion"]!);
        });
        var bcc = Assert.Single(entries, e => e.Partner == "bcc-childrens");
        Assert.Equal("permit", bcc.Outcome);
        Assert.Equal("ISA-BCC-003", bcc.Agreement);
        Assert.Equal(["bcc-childrens"], Recipients(bcc));
        Assert.Equal("all rules satisfied", bcc.Justification);
        Assert.Equal(["sanitise", "acknowledge", "retain-until"], Detail(bcc)["obligations"]!.AsArray().Select(o => (string)o!));
        var wmp = Assert.Single(entries, e => e.Partner == "wmp");
        Assert.Equal("deny", wmp.Outcome);
        Assert.Equal("DSA-POLICE-001", wmp.Agreement);
        Assert.Equal(["wmp"], Recipients(wmp));
        Assert.Equal("PURPOSE_NOT_PERMITTED, GATEWAY_NOT_PERMITTED", wmp.Justification);
    }

    [Fact]
    public async Task Records_a_decision_signed_by_another_key_as_unverified()
    {
        var packageId = NewId.NextGuid();
        var otherDirectory = Directory.CreateTempSubdirectory("toex-audit-other-").FullName;
        string jws;
        using (var other = LocalKeyRing.OpenOrCreate(otherDirectory, TimeProvider.System))
        {
            jws = new DecisionSigner(other.Current).Sign(Events.Decision(packageId));
        }
        Directory.Delete(otherDirectory, recursive: true);

        await DeliverAsync(new SharingDecided { PackageId = packageId, DecisionJws = jws });

        var entries = await _factory.LedgerAsync();
        Assert.Equal(["bcc-childrens", "wmp"], entries.Select(e => e.Partner));
        // Recorded, but never as an outcome: a query by outcome must not return a forged permit.
        Assert.All(entries, e => Assert.Null(e.Outcome));
        Assert.Equal(["permit", "deny"], entries.Select(e => (string?)Detail(e)["claimedOutcome"]));
        Assert.All(entries, e =>
        {
            Assert.Equal("decision-unverified", e.Type);
            Assert.False((bool)Detail(e)["signatureVerified"]!);
            Assert.False(string.IsNullOrWhiteSpace((string?)Detail(e)["signatureProblem"]));
        });
    }

    [Fact]
    public async Task Records_an_unreadable_decision_rather_than_dropping_it()
    {
        var packageId = NewId.NextGuid();

        await DeliverAsync(new SharingDecided { PackageId = packageId, DecisionJws = "not-a-jws" });

        var entry = Assert.Single(await _factory.LedgerAsync());
        Assert.Equal("decision-unreadable", entry.Type);
        Assert.Equal(packageId, entry.PackageId);
        Assert.Null(entry.Outcome);
        Assert.False(string.IsNullOrWhiteSpace(entry.Justification));
    }

    [Fact]
    public async Task Records_a_release_as_a_disclosure_to_its_recipient()
    {
        var packageId = NewId.NextGuid();

        await DeliverAsync(Events.Released(packageId));

        var entry = Assert.Single(await _factory.LedgerAsync());
        Assert.Equal("release", entry.Type);
        Assert.Equal(packageId, entry.PackageId);
        Assert.Equal("rocu-wm", entry.Originator);
        Assert.Equal("bcc-childrens", entry.Partner);
        Assert.Equal("ISA-BCC-003", entry.Agreement);
        Assert.Equal("permit", entry.Outcome);
        Assert.Equal(["bcc-childrens"], Recipients(entry));
        Assert.Equal("gateway, authorised by policy-decision", entry.Actor);
        Assert.Equal("purpose safeguarding-children; lawful basis DPA2018-Part3:s35(2)(b); agreement ISA-BCC-003", entry.Justification);
        Assert.Equal(Events.At.AddMinutes(2).ToUnixTimeMilliseconds(), entry.AtUnixMs);
        Assert.Equal(["sourceEvaluation", "sourceDetails"], Detail(entry)["withheldFields"]!.AsArray().Select(f => (string)f!));
        Assert.Equal("9f86d081884c7d65", (string)Detail(entry)["sealedSha256"]!);
    }

    [Fact]
    public async Task Records_a_consultation_once_per_package_shown_with_who_why_and_the_cursor()
    {
        var (first, second) = (NewId.NextGuid(), NewId.NextGuid());

        await DeliverAsync(Events.Consultation(first, second));

        var entries = await _factory.LedgerAsync();
        Assert.Equal([(first, "rocu-wm", 11L), (second, "wmp", 12L)],
            entries.Select(e => (e.PackageId!.Value, e.Originator!, (long)Detail(e)["cursor"]!)));
        Assert.All(entries, e =>
        {
            Assert.Equal("consultation", e.Type);
            Assert.Equal("bcc-childrens/case-worker-7", e.Actor);
            Assert.Equal("collecting releases", e.Justification);
            Assert.Equal(["bcc-childrens"], Recipients(e));
            Assert.Equal("bcc-childrens", e.Partner);
            Assert.Null(e.Outcome);
            Assert.Equal("feed-read", (string)Detail(e)["kind"]!);
            Assert.Equal("12", (string)Detail(e)["request"]!["next"]!);
        });
    }

    [Fact]
    public async Task Keeps_a_submissions_subject_blind_indexes_in_its_entry_and_for_search_once()
    {
        var packageId = NewId.NextGuid();
        var submitted = Events.Submitted(packageId) with { SubjectIndexes = ["pnc.b", "n.a", "pnc.b"] };
        var messageId = NewId.NextGuid();

        await DeliverAsync(submitted, messageId, delivery: "1");
        await DeliverAsync(submitted, messageId, delivery: "2");

        var entry = Assert.Single(await _factory.LedgerAsync());
        Assert.Equal(["n.a", "pnc.b"], Detail(entry)["subjects"]!.AsArray().Select(s => (string)s!));
        var stored = await _factory.StoredTextAsync("SubjectIndexes");
        Assert.Equal(4, stored.Count);
        Assert.Equal(["n.a", "pnc.b"], stored.Where(v => v.Contains('.', StringComparison.Ordinal)).Order());
    }

    [Fact]
    public async Task Confirms_a_gateway_event_once_recorded_and_again_when_it_is_redelivered()
    {
        var released = Events.Released(NewId.NextGuid());
        var messageId = NewId.NextGuid();

        await DeliverAsync(released, messageId, delivery: "1");
        await DeliverAsync(released, messageId, delivery: "2");

        Assert.Single(await _factory.LedgerAsync());
        Assert.Equal(2, Confirmations(messageId));
    }

    /// <summary>How many confirmations name <paramref name="messageId"/> (published before its consumer returned).</summary>
    private int Confirmations(Guid messageId) =>
        _factory.Harness.Published.Select<AuditRecorded>(m => m.Context.Message.EventIds.Contains(messageId)).Count();

    [Fact]
    public async Task An_event_the_gateway_publishes_again_from_its_outbox_is_recorded_once_and_confirmed_again_without_a_conflict()
    {
        var released = (Id: NewId.NextGuid(), Message: Events.Released(NewId.NextGuid()));
        var consulted = (Id: NewId.NextGuid(), Message: Events.Consultation());
        await DeliverAsync(released.Message, released.Id, delivery: "1");
        await DeliverAsync(consulted.Message, consulted.Id, delivery: "1");
        var before = await _factory.LedgerAsync();

        // What the gateway's outbox publishes again: the stored body, read back into its type, under the same message id.
        // Each is consumed without a fault (a conflicting-event refusal is not retried: the delivery would never complete).
        await DeliverAsync(ToexJson.Deserialize<PackageReleased>(ToexJson.Serialize(released.Message)), released.Id, delivery: "2");
        await DeliverAsync(ToexJson.Deserialize<ConsultationRecorded>(ToexJson.Serialize(consulted.Message)), consulted.Id, delivery: "2");

        var after = await _factory.LedgerAsync();
        Assert.Equal(3, after.Count);
        Assert.Equal(before.Select(e => e.LeafHash), after.Select(e => e.LeafHash));
        Assert.Equal(2, Confirmations(released.Id));
        Assert.Equal(2, Confirmations(consulted.Id));
    }

    [Fact]
    public async Task Confirms_no_event_the_gateway_did_not_queue()
    {
        var packageId = NewId.NextGuid();
        var jws = new DecisionSigner(_factory.DecisionKeys.Current).Sign(Events.Decision(packageId));

        // The submission (published by the gateway itself before its 202, not queued) and PolicyDecision's decision.
        await DeliverAsync(Events.Submitted(packageId));
        await DeliverAsync(new SharingDecided { PackageId = packageId, DecisionJws = jws });

        Assert.Equal(3, (await _factory.LedgerAsync()).Count);
        Assert.Empty(_factory.Harness.Published.Select<AuditRecorded>());
    }

    [Fact]
    public async Task Confirms_each_gateway_event_of_a_group_commit_on_its_own_consumer_and_no_other_event()
    {
        var writer = _factory.Services.GetRequiredService<TOEX.Sharing.Audit.Ledger.LedgerWriter>();
        var consumptions = _factory.Services.GetRequiredService<Consumptions>();
        // The writer held in a commit of its own: the events below wait, and the next commit writes them together.
        var inCommit = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var scope = _factory.Services.CreateAsyncScope();
        var holding = writer.AppendAsync(scope.ServiceProvider.GetRequiredService<AuditDb>(), [new TOEX.Sharing.Audit.Ledger.LedgerRecord
        {
            EventKey = $"test/hold/{NewId.NextGuid():N}", Type = "test-hold", At = Events.At, Actor = "test", Justification = "holds the writer", Recipients = [],
        }], CancellationToken.None, async (_, _) =>
        {
            inCommit.SetResult();
            await release.Task;
        });
        await inCommit.Task;

        var gateway = new List<(Guid Id, object Message)>
        {
            (NewId.NextGuid(), Events.Released(NewId.NextGuid())), (NewId.NextGuid(), Events.Released(NewId.NextGuid())),
            (NewId.NextGuid(), Events.Rejected(NewId.NextGuid())), (NewId.NextGuid(), Events.Consultation()),
        };
        var others = new List<(Guid Id, object Message)> { (NewId.NextGuid(), Events.Submitted(NewId.NextGuid())), (NewId.NextGuid(), Events.Submitted(NewId.NextGuid())) };
        var consumed = gateway.Concat(others).Select(e => consumptions.WaitAsync(e.Id, "1", TimeSpan.FromSeconds(60))).ToList();
        foreach (var (id, message) in gateway.Concat(others))
        {
            await _factory.Harness.Bus.Publish(message, context =>
            {
                context.MessageId = id;
                context.Headers.Set(Consumptions.DeliveryHeader, "1");
            });
        }
        await Eventually.UntilAsync(() => Task.FromResult(writer.Waiting == gateway.Count + others.Count), TimeSpan.FromSeconds(30),
            () => $"{writer.Waiting} of {gateway.Count + others.Count} events waiting for the writer", poll: TimeSpan.FromMilliseconds(10));
        release.SetResult();
        await holding;
        await Task.WhenAll(consumed);

        Assert.Equal(1 + gateway.Count + 1 + others.Count, (await _factory.LedgerAsync()).Count);
        // Each consumer publishes its own event's confirmation through its own context: none waits on another's publish
        // (a broker restart must not leave one endpoint's messages waiting for another endpoint's channel).
        var confirmations = _factory.Harness.Published.Select<AuditRecorded>().Select(m => m.Context.Message).ToList();
        Assert.Equal(gateway.Select(e => e.Id).Order(), confirmations.SelectMany(c => c.EventIds).Order());
        Assert.All(confirmations, c => Assert.Single(c.EventIds));
        Assert.All(confirmations, c => Assert.Null(c.MessageId));
    }

    [Fact]
    public async Task An_event_of_another_type_under_a_recorded_message_id_is_recorded_too_not_taken_for_it()
    {
        var packageId = NewId.NextGuid();
        var messageId = NewId.NextGuid();
        var delivered = new WebhookDelivered
        {
            WebhookId = NewId.NextGuid(), PackageId = packageId, Recipient = "bcc-childrens", Kind = "package", Attempt = 1, StatusCode = 200, At = Events.At,
        };
        var acknowledged = new PackageAcknowledged
        {
            PackageId = packageId, Recipient = "bcc-childrens", Kind = "package", AcknowledgedBy = "bcc-childrens/caseworker", Channel = "feed", At = Events.At,
        };

        // Keyed by publisher, type and id: the acknowledgement cannot pre-empt the delivery's key, nor be skipped as it.
        await DeliverAsync(acknowledged, messageId);
        await DeliverAsync(delivered, messageId, delivery: "2");

        var entries = await _factory.LedgerAsync();
        Assert.Equal(["acknowledgement", "webhook-delivered"], entries.Select(e => e.Type));
        Assert.Equal([$"gateway/PackageAcknowledged/{messageId:N}", $"gateway/WebhookDelivered/{messageId:N}"], entries.Select(e => e.EventKey));
    }

    [Fact]
    public async Task A_submission_decided_again_after_a_redelivery_is_the_same_decision_not_a_conflict()
    {
        var packageId = NewId.NextGuid();
        var messageId = NewId.NextGuid();
        var signer = new DecisionSigner(_factory.DecisionKeys.Current);
        // What PolicyDecision publishes for a submission delivered twice: one message id, a new time, a new signature.
        var first = signer.Sign(Events.Decision(packageId, Events.At.AddMinutes(1), Events.Permit, Events.Deny));
        var again = signer.Sign(Events.Decision(packageId, Events.At.AddMinutes(3), Events.Permit, Events.Deny));
        Assert.NotEqual(first, again);

        await DeliverAsync(new SharingDecided { PackageId = packageId, DecisionJws = first }, messageId, delivery: "1");
        await DeliverAsync(new SharingDecided { PackageId = packageId, DecisionJws = again }, messageId, delivery: "2");

        var entries = await _factory.LedgerAsync();
        Assert.Equal(2, entries.Count);
        Assert.All(entries, e => Assert.Equal(Events.At.AddMinutes(1).ToUnixTimeMilliseconds(), e.AtUnixMs));
    }

    [Fact]
    public async Task A_decision_under_a_recorded_key_that_decided_otherwise_is_refused()
    {
        var packageId = NewId.NextGuid();
        var messageId = NewId.NextGuid();
        var signer = new DecisionSigner(_factory.DecisionKeys.Current);
        await DeliverAsync(new SharingDecided { PackageId = packageId, DecisionJws = signer.Sign(Events.Decision(packageId)) }, messageId, delivery: "1");
        var consumptions = _factory.Services.GetRequiredService<Consumptions>();
        var faulted = consumptions.WaitFaultAsync(messageId, "2", TimeSpan.FromSeconds(30));

        var otherwise = Events.Decision(packageId, Events.At.AddMinutes(1), Events.Permit, Events.Permit with { Recipient = Events.Deny.Recipient, Agreement = Events.Deny.Agreement });
        await _factory.Harness.Bus.Publish(new SharingDecided { PackageId = packageId, DecisionJws = signer.Sign(otherwise) }, context =>
        {
            context.MessageId = messageId;
            context.Headers.Set(Consumptions.DeliveryHeader, "2");
        });

        Assert.IsType<TOEX.Sharing.Audit.Ledger.LedgerConflictException>(await faulted);
        Assert.Equal(2, (await _factory.LedgerAsync()).Count);
    }

    [Fact]
    public async Task A_second_event_under_a_recorded_key_with_other_content_is_refused_and_never_confirmed()
    {
        var released = Events.Released(NewId.NextGuid());
        var messageId = NewId.NextGuid();
        await DeliverAsync(released, messageId, delivery: "1");
        var consumptions = _factory.Services.GetRequiredService<Consumptions>();
        var faulted = consumptions.WaitFaultAsync(messageId, "2", TimeSpan.FromSeconds(30));

        await _factory.Harness.Bus.Publish(released with { Recipient = "wmp", Agreement = "DSA-POLICE-001" }, context =>
        {
            context.MessageId = messageId;
            context.Headers.Set(Consumptions.DeliveryHeader, "2");
        });

        Assert.IsType<TOEX.Sharing.Audit.Ledger.LedgerConflictException>(await faulted);
        var entry = Assert.Single(await _factory.LedgerAsync());
        Assert.Equal("bcc-childrens", entry.Partner);
        // Confirmed once, for the event recorded; never for the one refused.
        Assert.Equal(1, Confirmations(messageId));
    }

    [Fact]
    public async Task Records_a_rejected_decision_with_the_gateways_reason()
    {
        var packageId = NewId.NextGuid();

        await DeliverAsync(Events.Rejected(packageId));

        var entry = Assert.Single(await _factory.LedgerAsync());
        Assert.Equal("decision-rejected", entry.Type);
        Assert.Equal(packageId, entry.PackageId);
        Assert.Equal("gateway", entry.Actor);
        Assert.Equal("The decision's content hash does not match the package.", entry.Justification);
        Assert.Empty(Recipients(entry));
        Assert.Null(entry.Outcome);
        Assert.Equal(Events.At.AddMinutes(3).ToUnixTimeMilliseconds(), entry.AtUnixMs);
    }

    [Fact]
    public async Task Records_a_partners_key_registration_and_revocation_with_who_on_what_authority_and_why()
    {
        await DeliverAsync(new PartnerKeyRegistered
        {
            Partner = "nca",
            KeyId = "kid-new",
            Thumbprint = "thumb-new",
            KeyType = "EC P-384",
            NotBefore = Events.At,
            Expires = Events.At.AddYears(1),
            RegisteredBy = "toex-operations/operator-1",
            Authority = PartnerKeyAuthority.Operator,
            Reason = "The partner lost its key.",
            At = Events.At,
        });
        await DeliverAsync(new PartnerKeyRevoked
        {
            Partner = "nca",
            KeyId = "kid-old",
            Thumbprint = "thumb-old",
            RevokedBy = "nca/nca-tester",
            Authority = PartnerKeyAuthority.Partner,
            ProvedWith = "thumb-new",
            At = Events.At.AddMinutes(1),
        });

        var entries = await _factory.LedgerAsync();
        Assert.Equal(2, entries.Count);
        var registered = Assert.Single(entries, e => e.Type == "partner-key-registered");
        Assert.Equal("nca", registered.Partner);
        Assert.Equal("operator toex-operations/operator-1", registered.Actor);
        Assert.Equal("The partner lost its key.", registered.Justification);
        Assert.Null(registered.PackageId);
        Assert.Empty(Recipients(registered));
        Assert.Equal("kid-new", (string)Detail(registered)["keyId"]!);
        Assert.Equal("thumb-new", (string)Detail(registered)["thumbprint"]!);
        Assert.Equal("EC P-384", (string)Detail(registered)["keyType"]!);
        Assert.Equal("operator", (string)Detail(registered)["authority"]!);
        var revoked = Assert.Single(entries, e => e.Type == "partner-key-revoked");
        Assert.Equal("nca", revoked.Partner);
        Assert.Equal("nca/nca-tester", revoked.Actor);
        Assert.Equal("the partner proved possession of its current key thumb-new", revoked.Justification);
        Assert.Equal("kid-old", (string)Detail(revoked)["keyId"]!);
        Assert.Equal(Events.At.AddMinutes(1).ToUnixTimeMilliseconds(), revoked.AtUnixMs);
    }

    [Fact]
    public async Task Appends_a_redelivered_event_once()
    {
        var packageId = NewId.NextGuid();
        var submission = NewId.NextGuid();
        var decision = NewId.NextGuid();
        var decided = new SharingDecided
        {
            PackageId = packageId,
            DecisionJws = new DecisionSigner(_factory.DecisionKeys.Current).Sign(Events.Decision(packageId)),
        };

        await DeliverAsync(Events.Submitted(packageId), submission, delivery: "1");
        await DeliverAsync(decided, decision, delivery: "1");
        await DeliverAsync(Events.Submitted(packageId), submission, delivery: "2");
        await DeliverAsync(decided, decision, delivery: "2");

        var entries = await _factory.LedgerAsync();
        Assert.Equal(["submission", "decision", "decision"], entries.Select(e => e.Type));
        Assert.Equal([0L, 1L, 2L], entries.Select(e => e.Index));
        Assert.Equal(entries.Count, entries.Select(e => e.EventKey).Distinct().Count());
    }

    /// <summary>Every kind of event at once, so the consumers append concurrently.</summary>
    private async Task DeliverOneOfEachAsync()
    {
        var packageId = NewId.NextGuid();
        await Task.WhenAll(
            DeliverAsync(Events.Submitted(packageId, new DateOnly(2010, 3, 14))),
            DeliverAsync(new SharingDecided
            {
                PackageId = packageId,
                DecisionJws = new DecisionSigner(_factory.DecisionKeys.Current).Sign(Events.Decision(packageId)),
            }),
            DeliverAsync(Events.Released(packageId)),
            DeliverAsync(Events.Rejected(packageId)),
            DeliverAsync(Events.Released(NewId.NextGuid())));
    }

    [Fact]
    public async Task Numbers_entries_from_zero_without_gaps()
    {
        await DeliverOneOfEachAsync();

        var entries = await _factory.LedgerAsync();
        Assert.Equal(6, entries.Count);
        Assert.Equal(Enumerable.Range(0, entries.Count).Select(i => (long)i), entries.Select(e => e.Index));
        Assert.All(entries, e => Assert.Equal(e.Index, (long)JsonNode.Parse(e.Canonical)!["index"]!));
    }

    [Fact]
    public async Task Hashes_each_entry_as_an_rfc9162_leaf_chained_from_32_zero_bytes()
    {
        await DeliverOneOfEachAsync();

        var entries = await _factory.LedgerAsync();
        Assert.Equal(6, entries.Count);
        var chain = new byte[32];
        foreach (var entry in entries)
        {
            var leaf = SHA256.HashData([0x00, .. Encoding.UTF8.GetBytes(entry.Canonical)]);
            chain = SHA256.HashData([.. chain, .. leaf]);
            Assert.Equal(Convert.ToHexStringLower(leaf), entry.LeafHash);
            Assert.Equal(Convert.ToHexStringLower(chain), entry.ChainHash);
        }
    }

    [Fact]
    public async Task Stores_no_subject_date_of_birth_in_any_column()
    {
        var datesOfBirth = new DateOnly?[] { new DateOnly(2010, 3, 14), new DateOnly(1992, 7, 1), null, new DateOnly(2009, 12, 30) };

        await DeliverAsync(Events.Submitted(NewId.NextGuid(), datesOfBirth));

        var entry = Assert.Single(await _factory.LedgerAsync());
        Assert.Equal(datesOfBirth.Length, (int)Detail(entry)["subjectCount"]!);
        var stored = await _factory.StoredTextAsync();
        Assert.Contains(entry.Canonical, stored);
        foreach (var date in datesOfBirth.OfType<DateOnly>())
        {
            foreach (var format in new[] { "yyyy-MM-dd", "dd/MM/yyyy", "yyyyMMdd" })
            {
                var text = date.ToString(format, CultureInfo.InvariantCulture);
                Assert.DoesNotContain(text, entry.Canonical, StringComparison.Ordinal);
                Assert.All(stored, value => Assert.DoesNotContain(text, value, StringComparison.Ordinal));
            }
        }
    }
}

public sealed class LedgerConsumerTestsOnSqlite() : LedgerConsumerTests(StoreKind.Sqlite);

public sealed class LedgerConsumerTestsOnPostgreSql() : LedgerConsumerTests(StoreKind.PostgreSql);
