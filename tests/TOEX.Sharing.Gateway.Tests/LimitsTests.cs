using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text;
using System.Text.Json.Nodes;
using TOEX.Sharing.Testing;

namespace TOEX.Sharing.Gateway.Tests;

/// <summary>Per-client rate limits and request timeouts (issue 5, limits), on the real gateway pipeline.</summary>
public sealed class LimitsTests : IDisposable
{
    private readonly GatewayFactory _factory = new();

    public LimitsTests()
    {
        _factory.Settings["Limits:PermitsPerWindow"] = "3";
        _factory.Settings["Limits:Window"] = "00:10:00";
        _factory.Settings["Limits:RequestTimeout"] = "00:00:01";
    }

    public void Dispose() => _factory.Dispose();

    [Fact]
    public async Task A_client_over_its_rate_gets_429_with_Retry_After_while_other_clients_go_on()
    {
        var client = _factory.ClientFor("bcc-childrens", "Feed.Read");
        for (var i = 0; i < 3; i++)
        {
            Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/api/v1/feed")).StatusCode);
        }

        var refused = await client.GetAsync("/api/v1/feed");
        Assert.Equal(HttpStatusCode.TooManyRequests, refused.StatusCode);
        Assert.Equal("application/problem+json", refused.Content.Headers.ContentType?.MediaType);
        Assert.Equal("https://toex.sharing/problems/rate-limited", (string)(await refused.Content.ReadFromJsonAsync<JsonObject>())!["type"]!);
        Assert.InRange(refused.Headers.RetryAfter!.Delta!.Value, TimeSpan.FromSeconds(1), TimeSpan.FromMinutes(10));

        // The limit is the caller's, not the token's: a new token for the same person is still refused.
        Assert.Equal(HttpStatusCode.TooManyRequests, (await _factory.ClientFor("bcc-childrens", "Feed.Read").GetAsync("/api/v1/feed")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await _factory.ClientFor("safe-haven", "Feed.Read").GetAsync("/api/v1/feed")).StatusCode);
    }

    [Fact]
    public async Task An_organisation_cannot_multiply_its_rate_by_using_many_callers()
    {
        using var factory = new GatewayFactory();
        factory.Settings["Limits:PermitsPerWindow"] = "3";
        factory.Settings["Limits:PermitsPerWindowPerOrganisation"] = "5";
        factory.Settings["Limits:Window"] = "00:10:00";
        var statuses = new List<HttpStatusCode>();
        for (var caller = 0; caller < 4; caller++)
        {
            var client = factory.ClientAs("bcc-childrens", $"system-{caller}", "Feed.Read");
            for (var i = 0; i < 2; i++)
            {
                statuses.Add((await client.GetAsync("/api/v1/feed")).StatusCode);
            }
        }

        // Each caller stayed under its own 3, but the organisation had 5 between them all.
        Assert.Equal(5, statuses.Count(s => s == HttpStatusCode.OK));
        Assert.Equal(3, statuses.Count(s => s == HttpStatusCode.TooManyRequests));
        Assert.Equal(HttpStatusCode.OK, (await factory.ClientFor("safe-haven", "Feed.Read").GetAsync("/api/v1/feed")).StatusCode);
    }

    [Fact]
    public async Task A_request_that_outlasts_the_timeout_is_abandoned_with_503()
    {
        // On Kestrel, from a raw socket: a client that sends its headers and a few bytes of body, then nothing.
        using var kestrel = new GatewayFactory();
        kestrel.Settings["Limits:RequestTimeout"] = "00:00:01";
        var port = FreePort.Next();
        kestrel.UseKestrel(port);
        kestrel.StartServer();
        var token = kestrel.ClientFor("rocu-wm", "Packages.Submit").DefaultRequestHeaders.Authorization!.Parameter;

        using var socket = new TcpClient();
        await socket.ConnectAsync(IPAddress.Loopback, port);
        var stream = socket.GetStream();
        await stream.WriteAsync(Encoding.ASCII.GetBytes(
            $"POST /api/v1/packages HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {token}\r\n"
            + "Content-Type: application/json\r\nContent-Length: 4096\r\n\r\n{\"reference\":"));
        await stream.FlushAsync();

        var answer = new StringBuilder();
        var buffer = new byte[8192];
        using var guard = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        while (!answer.ToString().Contains('}', StringComparison.Ordinal))
        {
            var read = await stream.ReadAsync(buffer, guard.Token);
            if (read == 0)
            {
                break;
            }
            answer.Append(Encoding.UTF8.GetString(buffer, 0, read));
        }

        var response = answer.ToString();
        Assert.StartsWith("HTTP/1.1 503", response, StringComparison.Ordinal);
        Assert.Contains("Retry-After:", response, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("https://toex.sharing/problems/request-timeout", response, StringComparison.Ordinal);
    }
}
