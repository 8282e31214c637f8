using System.Collections.Concurrent;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace TOEX.Sharing.Testing;

/// <summary>
/// A partner's webhook endpoint: real Kestrel on 127.0.0.1, recording every request (headers and body) and
/// answering as the test's <see cref="Respond"/> says for each request number (1-based; 200 by default).
/// </summary>
public sealed class WebhookReceiver : IAsyncDisposable
{
    public sealed record Request(int Number, string? Id, string? Timestamp, string? Signature, string Body);

    private readonly WebApplication _app;
    private readonly ConcurrentDictionary<int, TaskCompletionSource<Request>> _requests = new();
    private int _count;

    private WebhookReceiver(WebApplication app) => _app = app;

    /// <summary>How to answer request number n; the default answers 200 with an empty body.</summary>
    public Func<HttpContext, int, Task> Respond { get; set; } = (context, _) =>
    {
        context.Response.StatusCode = StatusCodes.Status200OK;
        return Task.CompletedTask;
    };

    public Uri Url { get; private set; } = null!;

    public int Count => Volatile.Read(ref _count);

    /// <summary>Every request so far, in arrival order.</summary>
    public IReadOnlyList<Request> Requests =>
        [.. _requests.Values.Where(r => r.Task.IsCompletedSuccessfully).Select(r => r.Task.Result).OrderBy(r => r.Number)];

    /// <summary>Starts listening on 127.0.0.1 (<paramref name="port"/>, or any free port) at <c>/hooks</c>.</summary>
    public static async Task<WebhookReceiver> StartAsync(int port = 0)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrel().UseUrls($"http://127.0.0.1:{port}");
        var app = builder.Build();
        var receiver = new WebhookReceiver(app);
        app.MapPost("/hooks", receiver.HandleAsync);
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        receiver.Url = new Uri(new Uri(address), "/hooks");
        return receiver;
    }

    private async Task HandleAsync(HttpContext context)
    {
        using var reader = new StreamReader(context.Request.Body);
        var body = await reader.ReadToEndAsync(context.RequestAborted);
        var number = Interlocked.Increment(ref _count);
        var headers = context.Request.Headers;
        Slot(number).TrySetResult(new Request(number, headers["webhook-id"], headers["webhook-timestamp"], headers["webhook-signature"], body));
        await Respond(context, number);
    }

    private TaskCompletionSource<Request> Slot(int number) =>
        _requests.GetOrAdd(number, _ => new TaskCompletionSource<Request>(TaskCreationOptions.RunContinuationsAsynchronously));

    /// <summary>Completes when request number <paramref name="number"/> has arrived.</summary>
    public async Task<Request> WaitForRequestAsync(int number, TimeSpan? timeout = null)
    {
        var limit = timeout ?? TimeSpan.FromSeconds(60);
        try
        {
            return await Slot(number).Task.WaitAsync(limit);
        }
        catch (TimeoutException)
        {
            throw new TimeoutException($"The receiver at {Url} got {Count} request(s), not request {number}, within {limit.TotalSeconds:0} s.");
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
