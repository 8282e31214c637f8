using MassTransit.Testing;
using TOEX.Sharing.Contracts;

namespace TOEX.Sharing.Gateway.Tests;

/// <summary>
/// The gateway's outbox events as the harness saw them published: inside <see cref="GatewayEventBatch"/>es (the outbox
/// publishes every event in a batch).
/// </summary>
public static class OutboxEvents
{
    /// <summary>The events of type <typeparamref name="T"/> in <paramref name="batch"/>, with their message ids.</summary>
    public static IEnumerable<(Guid MessageId, T Event)> Of<T>(GatewayEventBatch batch) where T : class =>
        batch.Events.Where(e => e.Type == typeof(T).Name).Select(e => (e.MessageId, ToexJson.Deserialize<T>(e.Body)));

    /// <summary>Whether an event of type <typeparamref name="T"/> matching <paramref name="match"/> is published (waiting for it, up to the harness's inactivity).</summary>
    public static Task<bool> AnyEventAsync<T>(this IPublishedMessageList published, Func<T, bool> match, CancellationToken cancellationToken)
        where T : class =>
        published.Any<GatewayEventBatch>(m => Of<T>(m.Context.Message).Any(e => match(e.Event)), cancellationToken);

    /// <summary>The published events of type <typeparamref name="T"/> (enumerated to its end, it waits for the harness to go idle).</summary>
    public static IEnumerable<T> Events<T>(this IPublishedMessageList published) where T : class =>
        published.Select<GatewayEventBatch>().SelectMany(m => Of<T>(m.Context.Message)).Select(e => e.Event);
}
