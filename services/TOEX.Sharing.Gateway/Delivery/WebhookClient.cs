using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Options;
using TOEX.Sharing.Sealing;

namespace TOEX.Sharing.Gateway.Delivery;

/// <summary>What one push attempt came to.</summary>
public sealed record AttemptResult(bool Delivered, int? StatusCode, string? Error, TimeSpan? RetryAfter = null, bool Gone = false,
    bool Acknowledged = false);

/// <summary>
/// Sends one signed push (Standard Webhooks: <c>webhook-id</c>, <c>webhook-timestamp</c>, <c>webhook-signature</c>
/// <c>v1a</c> Ed25519). Follows no redirect, stops at the per-attempt timeout, and connects only to public
/// addresses, checked on the addresses the host resolves to at connect time, unless the endpoint is a local
/// development one.
/// </summary>
public sealed class WebhookClient(HttpClient http, WebhookSigningKey key, IOptions<WebhookOptions> options, TimeProvider time)
{
    public const string HttpClientName = "webhooks";
    private const int MaxAnswerBytes = 64 * 1024;
    private static readonly HttpRequestOptionsKey<bool> AllowPrivate = new("toex.webhook.allow-private");

    /// <summary>The handler every push goes through.</summary>
    public static SocketsHttpHandler CreateHandler() => new()
    {
        AllowAutoRedirect = false,
        UseCookies = false,
        UseProxy = false,
        // A pooled connection is reused only briefly: the address check runs again for new connections.
        PooledConnectionLifetime = TimeSpan.FromMinutes(1),
        ConnectCallback = ConnectAsync,
    };

    public async Task<AttemptResult> SendAsync(WebhookEndpoint endpoint, Guid webhookId, string body, CancellationToken cancellationToken)
    {
        var id = webhookId.ToString("D");
        var timestamp = time.GetUtcNow().ToUnixTimeSeconds();
        using var request = new HttpRequestMessage(HttpMethod.Post, endpoint.Url)
        {
            Content = new StringContent(body, Encoding.UTF8, "application/json"),
        };
        request.Headers.Add(StandardWebhook.IdHeader, id);
        request.Headers.Add(StandardWebhook.TimestampHeader, timestamp.ToString(System.Globalization.CultureInfo.InvariantCulture));
        request.Headers.Add(StandardWebhook.SignatureHeader, key.Sign(id, timestamp, body));
        request.Options.Set(AllowPrivate, endpoint.LocalDevelopment);

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(options.Value.AttemptTimeout);
        try
        {
            using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, timeout.Token);
            var status = (int)response.StatusCode;
            if (response.IsSuccessStatusCode)
            {
                return new AttemptResult(true, status, null, Acknowledged: await AcknowledgedAsync(response, timeout.Token));
            }
            return status switch
            {
                >= 300 and < 400 => new AttemptResult(false, status, $"The endpoint answered {status} (a redirect); redirects are not followed."),
                410 => new AttemptResult(false, status, "The endpoint answered 410 Gone.", Gone: true),
                429 or 503 => new AttemptResult(false, status, $"The endpoint answered {status}.", RetryAfter(response)),
                _ => new AttemptResult(false, status, $"The endpoint answered {status}."),
            };
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return new AttemptResult(false, null, $"No answer within the attempt timeout ({options.Value.AttemptTimeout.TotalSeconds:0.###} s).");
        }
        catch (HttpRequestException e) when (e.InnerException is AddressRefusedException refused)
        {
            return new AttemptResult(false, null, refused.Message);
        }
        catch (HttpRequestException e)
        {
            return new AttemptResult(false, null, $"The endpoint could not be reached ({e.HttpRequestError}).");
        }
    }

    /// <summary>A 2xx answer whose JSON body is <c>{"acknowledged": true}</c> is the partner's acknowledgement.</summary>
    private static async Task<bool> AcknowledgedAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        if (response.Content.Headers.ContentType?.MediaType != "application/json")
        {
            return false;
        }
        var buffer = new byte[MaxAnswerBytes];
        await using var stream = await response.Content.ReadAsStreamAsync(cancellationToken);
        var read = 0;
        int n;
        while (read < buffer.Length && (n = await stream.ReadAsync(buffer.AsMemory(read), cancellationToken)) > 0)
        {
            read += n;
        }
        try
        {
            using var document = JsonDocument.Parse(buffer.AsMemory(0, read));
            return document.RootElement.ValueKind == JsonValueKind.Object
                && document.RootElement.TryGetProperty("acknowledged", out var value) && value.ValueKind == JsonValueKind.True;
        }
        catch (JsonException)
        {
            return false;
        }
    }

    private TimeSpan? RetryAfter(HttpResponseMessage response) => response.Headers.RetryAfter switch
    {
        { Delta: { } delta } => delta,
        { Date: { } date } => date - time.GetUtcNow(),
        _ => null,
    };

    private static async ValueTask<Stream> ConnectAsync(SocketsHttpConnectionContext context, CancellationToken cancellationToken)
    {
        var allowPrivate = context.InitialRequestMessage.Options.TryGetValue(AllowPrivate, out var allowed) && allowed;
        var host = context.DnsEndPoint.Host;
        var addresses = IPAddress.TryParse(host.Trim('[', ']'), out var literal)
            ? [literal]
            : await Dns.GetHostAddressesAsync(host, cancellationToken);
        if (!allowPrivate)
        {
            // Every address the name resolves to must be public: one private answer is enough to refuse.
            if (addresses.Select(AddressPolicy.Refusal).FirstOrDefault(r => r is not null) is { } refusal)
            {
                throw new AddressRefusedException($"Refused to connect: {refusal} and the partner is not a local development endpoint.");
            }
        }
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            await socket.ConnectAsync(addresses, context.DnsEndPoint.Port, cancellationToken);
            return new NetworkStream(socket, ownsSocket: true);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    private sealed class AddressRefusedException(string message) : IOException(message);
}
