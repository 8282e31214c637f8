using MassTransit;
using MassTransit.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using TOEX.Sharing.Contracts;
using TOEX.Sharing.Policy;
using TOEX.Sharing.PolicyDecision;
using TOEX.Sharing.Sealing;
using TOEX.Sharing.ServiceDefaults;
using TOEX.Sharing.Testing;

namespace TOEX.Sharing.PolicyDecision.Tests;

/// <summary>PolicyDecision's consumer with MassTransit's test harness.</summary>
public sealed class PolicyDecisionConsumerTests : IAsyncLifetime
{
    private readonly string _keys = Directory.CreateTempSubdirectory("toex-pd-").FullName;
    private readonly FakeTimeProvider _time = new(DateTimeOffset.Parse("2026-11-25T12:00:00Z", System.Globalization.CultureInfo.InvariantCulture));
    private ServiceProvider _services = null!;
    private ITestHarness _harness = null!;

    public async Task InitializeAsync()
    {
        var policies = PolicySet.Load(RepoPaths.Policies);
        _services = new ServiceCollection()
            .AddLogging()
            .AddSingleton<TimeProvider>(_time)
            .AddSingleton(new PolicyEngine(policies))
            .AddSingleton<IKeyRing>(LocalKeyRing.OpenOrCreate(_keys, _time))
            .AddMassTransitTestHarness(bus =>
            {
                // Any() returns at the first match; the idle timer only ends a wait that finds none, so give a loaded machine time.
                bus.SetTestTimeouts(testTimeout: TimeSpan.FromSeconds(60), testInactivityTimeout: TimeSpan.FromSeconds(30));
                bus.AddConsumer<PackageSubmittedConsumer, PackageSubmittedConsumerDefinition>();
            })
            .BuildServiceProvider(true);
        _harness = _services.GetRequiredService<ITestHarness>();
        await _harness.Start();
    }

    public async Task DisposeAsync()
    {
        await _services.DisposeAsync();
        Directory.Delete(_keys, recursive: true);
    }

    private static PackageSubmitted Submitted(Guid id) => new()
    {
        PackageId = id,
        Reference = "ROCUWM-2026-000123",
        Originator = "rocu-wm",
        SubmittedBy = "rocu-wm/analyst",
        SubmittedAt = DateTimeOffset.Parse("2026-11-25T11:59:00Z", System.Globalization.CultureInfo.InvariantCulture),
        ContentHash = "sha256:abc",
        Facts = ToexJson.Deserialize<IntelligencePackage>(File.ReadAllText(Path.Combine(RepoPaths.Root, "deploy", "samples", "rocuwm-2026-000123.json"))).ToFacts(),
    };

    [Fact]
    public async Task Publishes_one_signed_decision_for_all_recipients()
    {
        var id = NewId.NextGuid();

        await _harness.Bus.Publish(Submitted(id));

        Assert.True(await _harness.Consumed.Any<PackageSubmitted>());
        Assert.True(await _harness.Published.Any<SharingDecided>(m => m.Context.Message.PackageId == id));
        var decided = _harness.Published.Select<SharingDecided>(m => m.Context.Message.PackageId == id).First().Context.Message;
        var decision = new DecisionVerifier(_services.GetRequiredService<IKeyRing>().PublicJwks()).Verify(decided.DecisionJws);
        Assert.Equal(id, decision.PackageId);
        Assert.Equal("sha256:abc", decision.ContentHash);
        Assert.Equal(_time.GetUtcNow(), decision.DecidedAt);
        Assert.Equal(["permit", "deny"], decision.Decisions.Select(d => d.Outcome));
        Assert.Equal("ISA-BCC-003", decision.Decisions[0].Agreement);
    }

    [Fact]
    public async Task Derives_the_decision_message_id_from_the_submission_so_a_redelivery_repeats_it()
    {
        var id = NewId.NextGuid();
        var messageId = NewId.NextGuid();

        await _harness.Bus.Publish(Submitted(id), p => p.MessageId = messageId);

        Assert.True(await _harness.Published.Any<SharingDecided>(m => m.Context.Message.PackageId == id));
        var decided = _harness.Published.Select<SharingDecided>(m => m.Context.Message.PackageId == id).First();
        Assert.Equal(DerivedId.From(messageId, "sharing-decided"), decided.Context.MessageId);
        Assert.NotEqual(messageId, decided.Context.MessageId);
    }
}
