using System.Collections.Concurrent;
using System.CommandLine;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using TOEX.Sharing.Sealing;

namespace TOEX.Sharing.Cli;

/// <summary>
/// <c>toex webhook listen</c>: a sample push partner's receiver. For each partner it serves
/// <c>POST /hooks/PARTNER</c>: verifies the Standard Webhooks signature against the broker's published webhook
/// key (and the timestamp against this machine's clock), processes a <c>webhook-id</c> once, opens the sealed
/// package or recall notice with the partner's private key, prints it, and acknowledges in its answer
/// (<c>{"acknowledged": true}</c>) what the conditions require and every recall notice.
/// </summary>
public static class WebhookCommands
{
    private const int MaxBody = 2 * 1024 * 1024;

    private static readonly JsonSerializerOptions Indented = new()
    {
        WriteIndented = true,
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    public static Command Create()
    {
        var gateway = new Option<string>("--gateway") { Description = "The gateway's base URL (its published keys), e.g. http://127.0.0.1:5080", Required = true };
        var partners = new Option<string[]>("--partner") { Description = "A partner to receive for (repeatable); served at /hooks/PARTNER", Required = true, AllowMultipleArgumentsPerToken = true };
        var keys = new Option<DirectoryInfo>("--keys") { Description = "The folder of the partners' private keys, PARTNER.private.jwk", Required = true };
        var port = new Option<int>("--port") { Description = "The port to listen on, on 127.0.0.1", DefaultValueFactory = _ => 5090 };
        var acknowledge = new Option<bool>("--ack") { Description = "Acknowledge, in the answer, what the conditions require and every recall notice" };
        var tolerance = new Option<int>("--tolerance") { Description = "Seconds a webhook-timestamp may be from this machine's clock", DefaultValueFactory = _ => 300 };

        var listen = new Command("listen", "Receive, verify, decrypt (and acknowledge) pushed packages as a sample partner")
        {
            gateway, partners, keys, port, acknowledge, tolerance,
        };
        listen.SetAction((parse, cancellationToken) =>
        {
            if (!Uri.TryCreate(parse.GetValue(gateway), UriKind.Absolute, out var baseAddress) || baseAddress.Scheme is not ("http" or "https"))
            {
                parse.InvocationConfiguration.Error.WriteLine("--gateway must be an http(s) URL, e.g. http://127.0.0.1:5080");
                return Task.FromResult(ExitCodes.Usage);
            }
            return ListenAsync(baseAddress, parse.GetValue(partners)!, parse.GetValue(keys)!, parse.GetValue(port), parse.GetValue(acknowledge),
                TimeSpan.FromSeconds(Math.Max(1, parse.GetValue(tolerance))), cancellationToken);
        });
        return new Command("webhook", "A push partner's webhook receiver") { listen };
    }

    private static async Task<int> ListenAsync(Uri gateway, string[] partners, DirectoryInfo keys, int port, bool acknowledge,
        TimeSpan tolerance, CancellationToken cancellationToken)
    {
        var privateKeys = new Dictionary<string, string>(StringComparer.Ordinal);
        try
        {
            foreach (var partner in partners)
            {
                privateKeys[partner] = KeyFiles.ReadPrivateJwk(Path.Combine(keys.FullName, partner + ".private.jwk"));
            }
        }
        catch (SealException e)
        {
            await Console.Error.WriteLineAsync(e.Message);
            return ExitCodes.Usage;
        }

        using var http = new HttpClient { BaseAddress = gateway, Timeout = TimeSpan.FromSeconds(30) };
        var published = new PublishedKeys(http, tolerance);
        var seen = new ConcurrentDictionary<string, string>(StringComparer.Ordinal);

        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrel(kestrel => kestrel.Limits.MaxRequestBodySize = MaxBody).UseUrls($"http://127.0.0.1:{port}");
        await using var app = builder.Build();
        app.MapPost("/hooks/{partner}", async (string partner, HttpContext context) =>
        {
            if (!privateKeys.TryGetValue(partner, out var privateKey))
            {
                return Results.NotFound();
            }
            using var reader = new StreamReader(context.Request.Body);
            var body = await reader.ReadToEndAsync(context.RequestAborted);
            var headers = context.Request.Headers;
            string id = headers[StandardWebhook.IdHeader].ToString();
            try
            {
                await published.VerifyAsync(id, headers[StandardWebhook.TimestampHeader], headers[StandardWebhook.SignatureHeader], body, context.RequestAborted);
            }
            catch (SealException e)
            {
                await Console.Error.WriteLineAsync($"{partner}: refused a webhook: {e.Message}");
                return Results.Unauthorized();
            }
            if (seen.TryGetValue(id, out var earlier))
            {
                // The same webhook-id again (a retry whose answer was lost): already processed.
                Console.WriteLine($"--- {partner}: webhook {id} again; already processed");
                return Results.Text(earlier, "application/json");
            }
            var answer = await HandleAsync(partner, id, body, privateKey, acknowledge, published, context.RequestAborted);
            if (answer is null)
            {
                return Results.UnprocessableEntity();
            }
            seen[id] = answer;
            return Results.Text(answer, "application/json");
        });
        await app.StartAsync(cancellationToken);
        Console.WriteLine($"Receiving webhooks for {string.Join(", ", partners)} at http://127.0.0.1:{port}/hooks/PARTNER");
        try
        {
            await Task.Delay(Timeout.Infinite, cancellationToken);
        }
        catch (OperationCanceledException)
        {
            // Ctrl-C.
        }
        await app.StopAsync(CancellationToken.None);
        return ExitCodes.Success;
    }

    /// <summary>Opens and prints one delivery; returns the answer's JSON, or null when it does not open.</summary>
    private static async Task<string?> HandleAsync(string partner, string id, string body, string privateKey, bool acknowledge,
        PublishedKeys published, CancellationToken cancellationToken)
    {
        JsonObject content;
        try
        {
            var webhook = JsonNode.Parse(body)!.AsObject();
            var payload = PackageOpener.Open((string)webhook["data"]!["sealed"]!, privateKey, await published.BrokerJwksAsync(cancellationToken));
            content = JsonNode.Parse(payload)!.AsObject();
            Console.WriteLine($"--- {partner}: webhook {id} ({(string?)webhook["type"]}) package {(string?)webhook["data"]!["packageId"]}");
        }
        catch (Exception e) when (e is SealException or JsonException or InvalidOperationException or NullReferenceException)
        {
            await Console.Error.WriteLineAsync($"{partner}: webhook {id} did not open: {e.Message}");
            return null;
        }
        Console.WriteLine(content.ToJsonString(Indented));
        var recall = (string?)content["kind"] == "recall";
        var acknowledged = acknowledge && (recall || (bool?)content["acknowledgementRequired"] == true);
        if (acknowledged)
        {
            Console.WriteLine($"--- {partner}: acknowledged {(recall ? "the recall of " : "")}{(string?)content["packageId"]}");
        }
        return new JsonObject { ["acknowledged"] = acknowledged }.ToJsonString();
    }

    /// <summary>The broker's published keys, fetched once and again when a signature or copy does not verify (rotation).</summary>
    private sealed class PublishedKeys(HttpClient http, TimeSpan tolerance)
    {
        private string? _webhook;
        private string? _broker;

        public async Task VerifyAsync(string id, string? timestamp, string? signature, string body, CancellationToken cancellationToken)
        {
            _webhook ??= await http.GetStringAsync(new Uri("/.well-known/webhook-jwks.json", UriKind.Relative), cancellationToken);
            try
            {
                StandardWebhook.Verify(id, timestamp, signature, body, _webhook, TimeProvider.System.GetUtcNow(), tolerance);
            }
            catch (SealException)
            {
                _webhook = await http.GetStringAsync(new Uri("/.well-known/webhook-jwks.json", UriKind.Relative), cancellationToken);
                StandardWebhook.Verify(id, timestamp, signature, body, _webhook, TimeProvider.System.GetUtcNow(), tolerance);
            }
        }

        public async Task<string> BrokerJwksAsync(CancellationToken cancellationToken) =>
            _broker ??= await http.GetStringAsync(new Uri("/.well-known/jwks.json", UriKind.Relative), cancellationToken);
    }
}
