using System.Net;
using MassTransit;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using TOEX.Sharing.Contracts;
using TOEX.Sharing.Gateway.Data;

namespace TOEX.Sharing.Gateway.Tests;

/// <summary>
/// Unconfirmed is not unsent: the broker takes the submission but its confirmation comes after
/// <c>Gateway:PublishTimeout</c> (a loaded or recovering node). The caller is answered 503; the package may still be
/// decided and released. Its retry with the same reference must then be the same package, never a second one with the
/// same content (found by the long disk-alarm fault run: one package delivered under two ids).
/// </summary>
public sealed class LateConfirmationTests : IDisposable
{
    private readonly GatewayFactory _factory = new(publishTimeout: TimeSpan.FromSeconds(1))
    {
        ConfigureBus = (context, bus) => bus.UsePublishFilter(typeof(FirstSubmissionConfirmedLate<>), context),
    };

    public void Dispose() => _factory.Dispose();

    [Fact]
    public async Task A_submission_confirmed_too_late_is_answered_503_and_its_retry_is_the_same_package()
    {
        using var client = _factory.ClientFor("rocu-wm", "Packages.Submit");
        var package = Packages.Example();

        using var late = await client.PostAsync("/api/v1/packages", Packages.Json(package));
        Assert.Equal(HttpStatusCode.ServiceUnavailable, late.StatusCode);
        Assert.NotNull(late.Headers.RetryAfter);
        Assert.Contains("same reference", await late.Content.ReadAsStringAsync(), StringComparison.Ordinal);

        using var retried = await client.PostAsync("/api/v1/packages", Packages.Json(package));
        Assert.Equal(HttpStatusCode.Accepted, retried.StatusCode);

        // Both reached the broker for one package (and so under one message id, derived from it): one decision, one release.
        var sent = FirstSubmissionConfirmedLate<PackageSubmitted>.Sent.ToList();
        Assert.Equal(2, sent.Count);
        Assert.Single(sent.Distinct());
        await using var scope = _factory.Services.CreateAsyncScope();
        var submission = Assert.Single(await scope.ServiceProvider.GetRequiredService<GatewayDb>().Submissions.ToListAsync());
        Assert.Equal(sent[0], submission.Id);
        Assert.True(submission.Published);
    }

    /// <summary>Sends the first <see cref="PackageSubmitted"/> at once, then withholds its confirmation past the publisher's patience.</summary>
    private sealed class FirstSubmissionConfirmedLate<T> : IFilter<PublishContext<T>> where T : class
    {
        private static int _delayed;

        /// <summary>The package of every submission that reached the broker.</summary>
        public static System.Collections.Concurrent.ConcurrentQueue<Guid> Sent { get; } = new();

        public async Task Send(PublishContext<T> context, IPipe<PublishContext<T>> next)
        {
            await next.Send(context);
            if (context.Message is PackageSubmitted submitted)
            {
                Sent.Enqueue(submitted.PackageId);
            }
            if (context.Message is PackageSubmitted && Interlocked.Exchange(ref _delayed, 1) == 0)
            {
                await Task.Delay(Timeout.InfiniteTimeSpan, context.CancellationToken);
            }
        }

        public void Probe(ProbeContext context)
        {
        }
    }
}
