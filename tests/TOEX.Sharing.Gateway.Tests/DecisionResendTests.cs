using System.Collections.Concurrent;
using MassTransit;
using MassTransit.Testing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using TOEX.Sharing.Contracts;
using TOEX.Sharing.Gateway.Data;
using TOEX.Sharing.Gateway.Release;
using TOEX.Sharing.Sealing;
using TOEX.Sharing.ServiceDefaults;
using TOEX.Sharing.Testing;

namespace TOEX.Sharing.Gateway.Tests;

/// <summary>
/// No package stays undecided for good (issue 16 item 6): a submission whose decision never came (its <c>PackageSubmitted</c>
/// or its <c>SharingDecided</c> lost on the broker) is sent to PolicyDecision's endpoint again after
/// <c>Gateway:DecisionResendInterval</c> (1 min here, doubling up to 4 min), the same message under the same message id,
/// and never once it is decided; a decision made again is ignored by the gateway.
/// </summary>
public sealed class DecisionResendTests : IAsyncLifetime
{
    private readonly FakeTimeProvider _time = new(TimeProvider.System.GetUtcNow());
    private readonly GatewayFactory _factory = new();
    private readonly SendRecorder _sent = new();
    private LocalKeyRing _decisionKeys = null!;
    private int _references;

    public Task InitializeAsync()
    {
        _factory.Time = _time;
        _factory.Settings["Gateway:DecisionResendInterval"] = "00:01:00";
        _factory.Settings["Gateway:DecisionResendMaxInterval"] = "00:04:00";
        _decisionKeys = _factory.TrustDecisionKeys();
        _factory.RegisterPartnerKey("bcc-childrens");
        return Task.CompletedTask;
    }

    public Task DisposeAsync()
    {
        _decisionKeys.Dispose();
        _factory.Dispose();
        return Task.CompletedTask;
    }

    private ITestHarness Harness => _factory.Services.GetRequiredService<ITestHarness>();

    private DecisionResender Resender => _factory.Services.GetServices<Microsoft.Extensions.Hosting.IHostedService>().OfType<DecisionResender>().Single();

    private async Task<(Guid Id, PackageSubmitted Submitted)> SubmitAsync()
    {
        var package = Packages.Example();
        package["reference"] = $"ROCUWM-2026-7{Interlocked.Increment(ref _references):D5}";
        return await _factory.SubmitAsync(package);
    }

    private SharingDecided Decision(PackageSubmitted submitted, DateTimeOffset at) => new()
    {
        PackageId = submitted.PackageId,
        DecisionJws = new DecisionSigner(_decisionKeys.Current).Sign(GatewayFactory.Decide(submitted) with { DecidedAt = at }),
    };

    /// <summary>Moves the clock in steps until <paramref name="condition"/> holds (the resender waits on the fake clock).</summary>
    private Task AdvanceUntilAsync(Func<bool> condition, string what) => Eventually.UntilAsync(() =>
    {
        _time.Advance(TimeSpan.FromSeconds(5));
        return Task.FromResult(condition());
    }, TimeSpan.FromSeconds(30), () => what, poll: TimeSpan.FromMilliseconds(50));

    [Fact]
    public async Task Sends_an_undecided_submission_to_policy_decision_again_with_the_same_message_id_and_backoff_and_never_once_decided()
    {
        using var observing = Harness.Bus.ConnectSendObserver(_sent);
        var (lost, lostSubmitted) = await SubmitAsync();
        var (decided, decidedSubmitted) = await SubmitAsync();
        await _factory.DeliverAsync(Decision(decidedSubmitted, GatewayFactory.At));

        // Within the interval nothing is asked again.
        _time.Advance(TimeSpan.FromSeconds(50));
        Assert.Equal(0, await Resender.ResendDueAsync(CancellationToken.None));
        Assert.Empty(_sent.To(lost));

        // After it, the lost one is sent to PolicyDecision's endpoint (not published), the same message under the same id.
        await AdvanceUntilAsync(() => _sent.To(lost).Count == 1, $"the undecided package was sent {_sent.To(lost).Count} time(s)");
        var (messageId, destination, message) = _sent.To(lost).Single();
        Assert.Equal(DerivedId.From(lost, "package-submitted"), messageId);
        Assert.EndsWith("/" + SentEndpoints.PolicyDecisionPackageSubmitted, destination.AbsolutePath, StringComparison.Ordinal);
        Assert.Equal(ToexJson.Serialize(lostSubmitted), ToexJson.Serialize(message));
        Assert.Empty(_sent.To(decided));
        var resentAt = _time.GetUtcNow();

        // The next request waits twice as long (2 min): not within 90 s, then once more.
        _time.Advance(TimeSpan.FromSeconds(90));
        Assert.Equal(0, await Resender.ResendDueAsync(CancellationToken.None));
        Assert.Single(_sent.To(lost));
        _time.Advance(TimeSpan.FromMinutes(2) - (_time.GetUtcNow() - resentAt));
        await AdvanceUntilAsync(() => _sent.To(lost).Count == 2, $"the undecided package was sent {_sent.To(lost).Count} time(s)");
        Assert.Equal(DerivedId.From(lost, "package-submitted"), _sent.To(lost)[1].MessageId);

        // Decided (by the decision asked again): never asked again; the published submission was never repeated.
        await _factory.DeliverAsync(Decision(lostSubmitted, GatewayFactory.At));
        _time.Advance(TimeSpan.FromMinutes(30));
        Assert.Equal(0, await Resender.ResendDueAsync(CancellationToken.None));
        Assert.Equal(2, _sent.To(lost).Count);
        Assert.Empty(_sent.To(decided));
        Assert.Single(Harness.Published.Select<PackageSubmitted>(m => m.Context.Message.PackageId == lost).Take(2));
    }

    [Fact]
    public async Task A_second_decision_for_a_decided_package_releases_nothing_again_and_keeps_the_first_outcome()
    {
        var (id, submitted) = await SubmitAsync();
        await _factory.DeliverAsync(Decision(submitted, GatewayFactory.At));
        var first = await SnapshotAsync(id);
        Assert.Equal(SubmissionStatus.Decided, first.Status);
        Assert.NotEmpty(first.Released);

        // PolicyDecision decided it again (a re-request crossed the first decision): a new time, a new signature.
        await _factory.DeliverAsync(Decision(submitted, GatewayFactory.At.AddMinutes(5)));
        var second = await SnapshotAsync(id);
        Assert.Equal(first.DecisionJws, second.DecisionJws);
        Assert.Equal(first.DecidedAt, second.DecidedAt);
        Assert.Equal(first.Released, second.Released);
        Assert.Equal(first.Feed, second.Feed);
    }

    private async Task<(string Status, string? DecisionJws, DateTimeOffset? DecidedAt, List<Guid> Released, int Feed)> SnapshotAsync(Guid id)
    {
        await using var scope = _factory.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<GatewayDb>();
        var submission = await db.Submissions.AsNoTracking().SingleAsync(s => s.Id == id);
        var released = await db.Outbox.AsNoTracking().Where(o => o.MessageType == nameof(PackageReleased))
            .OrderBy(o => o.Sequence).Select(o => o.MessageId).ToListAsync();
        var feed = await db.Feed.AsNoTracking().CountAsync(f => f.PackageId == id);
        return (submission.Status, submission.DecisionJws, submission.DecidedAt, released, feed);
    }

    /// <summary>Every <c>PackageSubmitted</c> the bus sent (not published) to an endpoint by name, per package.</summary>
    private sealed class SendRecorder : ISendObserver
    {
        private readonly ConcurrentQueue<(Guid MessageId, Uri Destination, PackageSubmitted Message)> _sent = new();

        public List<(Guid MessageId, Uri Destination, PackageSubmitted Message)> To(Guid packageId) =>
            [.. _sent.Where(s => s.Message.PackageId == packageId)];

        public Task PreSend<T>(SendContext<T> context) where T : class => Task.CompletedTask;

        public Task PostSend<T>(SendContext<T> context) where T : class
        {
            // A publish passes here too, to the message type's exchange: only what went to an endpoint by its name counts.
            if (context.Message is PackageSubmitted message && context.DestinationAddress is { } destination
                && !destination.AbsolutePath.Contains(nameof(PackageSubmitted), StringComparison.Ordinal) && context.MessageId is { } id)
            {
                _sent.Enqueue((id, destination, message));
            }
            return Task.CompletedTask;
        }

        public Task SendFault<T>(SendContext<T> context, Exception exception) where T : class => Task.CompletedTask;
    }
}
