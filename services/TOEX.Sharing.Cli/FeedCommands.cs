using System.CommandLine;
using System.Globalization;
using System.Net.Http.Headers;
using System.Text.Json;
using System.Text.Json.Nodes;
using TOEX.Sharing.Sealing;
using TOEX.Sharing.ServiceDefaults;

namespace TOEX.Sharing.Cli;

/// <summary>
/// <c>toex feed pull</c>: what a partner on a pull feed runs. Reads its feed from a cursor, verifies and
/// decrypts each item with its private key against the broker's published keys, prints it, and
/// acknowledges the packages whose conditions require it.
/// </summary>
public static class FeedCommands
{
    private static readonly JsonSerializerOptions Indented = new()
    {
        WriteIndented = true,
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    public static Command Create()
    {
        var gateway = new Option<string>("--gateway") { Description = "The gateway's base URL, e.g. http://127.0.0.1:5080", Required = true };
        var key = new Option<FileInfo>("--key") { Description = "The partner's private JWK", Required = true };
        var token = new Option<string?>("--token") { Description = "A bearer token with Feed.Read (default: TOEX_TOKEN)" };
        var devOrg = new Option<string?>("--dev-org") { Description = "Mint a development-issuer token for this organisation instead (local runs only)" };
        var subject = new Option<string?>("--subject")
        {
            Description = "With --dev-org: who is reading, as the audit ledger records each read (ORG/SUBJECT). Default: the operating system's user name",
        };
        var after = new Option<string?>("--after") { Description = "Start after this cursor (default: the beginning)" };
        var follow = new Option<bool>("--follow") { Description = "Keep polling for new items" };
        var acknowledge = new Option<bool>("--ack") { Description = "Acknowledge packages whose conditions require it" };
        var interval = new Option<int>("--interval") { Description = "Seconds between polls with --follow", DefaultValueFactory = _ => 2 };

        var pull = new Command("pull", "Read, verify, decrypt (and acknowledge) the items of a partner's feed")
        {
            gateway, key, token, devOrg, subject, after, follow, acknowledge, interval,
        };
        pull.SetAction((parse, cancellationToken) =>
        {
            if (!Uri.TryCreate(parse.GetValue(gateway), UriKind.Absolute, out var baseAddress) || baseAddress.Scheme is not ("http" or "https"))
            {
                parse.InvocationConfiguration.Error.WriteLine("--gateway must be an http(s) URL, e.g. http://127.0.0.1:5080");
                return Task.FromResult(ExitCodes.Usage);
            }
            return PullAsync(new PullOptions(
            baseAddress, parse.GetValue(key)!, parse.GetValue(token), parse.GetValue(devOrg), parse.GetValue(subject), parse.GetValue(after),
            parse.GetValue(follow), parse.GetValue(acknowledge), parse.GetValue(interval)), cancellationToken);
        });

        return new Command("feed", "A partner's pull feed") { pull };
    }

    private sealed record PullOptions(
        Uri Gateway, FileInfo Key, string? Token, string? DevOrg, string? Subject, string? After, bool Follow, bool Acknowledge, int Interval);

    private static async Task<int> PullAsync(PullOptions options, CancellationToken cancellationToken)
    {
        var bearer = options.Token ?? Environment.GetEnvironmentVariable("TOEX_TOKEN");
        if (bearer is null && options.DevOrg is not null)
        {
            using var issuer = DevIssuer.OpenOrCreate(DevIssuer.DefaultDirectory(), TimeProvider.System);
            // The ledger records every read under ORG/SUBJECT: a person's pull is theirs, not the sample partner's.
            var who = string.IsNullOrWhiteSpace(options.Subject) ? Environment.UserName : options.Subject.Trim();
            bearer = issuer.CreateToken(options.DevOrg, [Roles.FeedRead], who, TimeSpan.FromHours(8));
        }
        else if (options.Subject is not null)
        {
            await Console.Error.WriteLineAsync("--subject applies only with --dev-org; the token's own subject is what the ledger records.");
        }
        if (bearer is null)
        {
            await Console.Error.WriteLineAsync("Give a token: --token, TOEX_TOKEN, or --dev-org for a local run.");
            return ExitCodes.Usage;
        }
        string privateKey;
        try
        {
            privateKey = KeyFiles.ReadPrivateJwk(options.Key.FullName);
        }
        catch (SealException e)
        {
            await Console.Error.WriteLineAsync(e.Message);
            return ExitCodes.Usage;
        }

        using var http = new HttpClient { BaseAddress = options.Gateway, Timeout = TimeSpan.FromSeconds(30) };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", bearer);
        var cursor = options.After;
        var failures = 0;
        try
        {
            var jwks = await http.GetStringAsync(new Uri("/.well-known/jwks.json", UriKind.Relative), cancellationToken);
            do
            {
                var query = "/api/v1/feed?limit=100" + (cursor is null ? "" : "&after=" + Uri.EscapeDataString(cursor));
                var page = JsonNode.Parse(await http.GetStringAsync(new Uri(query, UriKind.Relative), cancellationToken))!.AsObject();
                foreach (var item in page["items"]!.AsArray())
                {
                    failures += await HandleAsync(http, item!.AsObject(), privateKey, jwks, options.Acknowledge, cancellationToken) ? 0 : 1;
                }
                cursor = (string?)page["next"] ?? cursor;
                if (options.Follow && page["items"]!.AsArray().Count == 0)
                {
                    await Task.Delay(TimeSpan.FromSeconds(Math.Max(1, options.Interval)), cancellationToken);
                }
            }
            while (options.Follow && !cancellationToken.IsCancellationRequested);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            return failures == 0 ? ExitCodes.Success : ExitCodes.Finding;
        }
        catch (HttpRequestException e)
        {
            await Console.Error.WriteLineAsync($"The gateway did not answer as expected: {e.Message}");
            return ExitCodes.Finding;
        }
        await Console.Error.WriteLineAsync($"Next cursor: {cursor}");
        return failures == 0 ? ExitCodes.Success : ExitCodes.Finding;
    }

    private static async Task<bool> HandleAsync(HttpClient http, JsonObject item, string privateKey, string jwks, bool acknowledge,
        CancellationToken cancellationToken)
    {
        var cursor = (string?)item["cursor"];
        string payload;
        try
        {
            payload = PackageOpener.Open((string)item["sealed"]!, privateKey, jwks);
        }
        catch (SealException e)
        {
            await Console.Error.WriteLineAsync($"Item {cursor} did not verify or decrypt: {e.Message}");
            return false;
        }
        var copy = JsonNode.Parse(payload)!.AsObject();
        Console.WriteLine($"--- item {cursor}: {(string?)copy["kind"]} {(string?)copy["packageId"]} under {(string?)copy["agreement"]}");
        Console.WriteLine(copy.ToJsonString(Indented));
        var recall = (string?)copy["kind"] == "recall";
        if (acknowledge && (recall || (bool?)copy["acknowledgementRequired"] == true))
        {
            // A recall notice is always acknowledged: the originator sees who has stopped using the package.
            using var response = await http.PostAsync(
                new Uri($"/api/v1/feed/{Uri.EscapeDataString((string)copy["packageId"]!)}/ack{(recall ? "?kind=recall" : "")}", UriKind.Relative), null, cancellationToken);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"--- acknowledged {(recall ? "the recall of " : "")}{(string?)copy["packageId"]}: {(int)response.StatusCode}"));
        }
        return true;
    }
}
