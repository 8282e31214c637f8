using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Options;

namespace TOEX.Sharing.Audit.Console;

/// <summary>What the gateway answered an operator's retry: whether it was accepted, and its message for the officer.</summary>
public sealed record RetryOutcome(bool Accepted, HttpStatusCode Status, string Message);

/// <summary>
/// The console's calls to the gateway, made with the signed-in officer's own access token (the one their sign-in
/// obtained, kept in their encrypted session cookie): the gateway authenticates and authorises the officer itself, by
/// its own role and operator rules, and records the retry under the officer's name. The audit service holds no power
/// of its own over deliveries.
/// </summary>
public sealed class GatewayClient(IHttpClientFactory clients, IOptions<ConsoleOptions> options)
{
    public const string Name = "gateway";

    public bool Configured => options.Value.GatewayUrl is not null;

    /// <summary><c>POST /api/v1/packages/{id}/deliveries/{partner}/retry</c> with <paramref name="reason"/>, as the officer.</summary>
    public async Task<RetryOutcome> RetryAsync(HttpContext http, Guid packageId, string partner, string reason, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(http);
        var token = await http.GetTokenAsync(ConsoleAuthentication.CookieScheme, ConsoleAuthentication.AccessTokenName);
        if (options.Value.GatewayUrl is not { } gateway || token is null)
        {
            return new RetryOutcome(false, HttpStatusCode.ServiceUnavailable, "The console is not connected to the gateway (Console:GatewayUrl).");
        }
        using var request = new HttpRequestMessage(HttpMethod.Post,
            new Uri(gateway, $"/api/v1/packages/{packageId}/deliveries/{Uri.EscapeDataString(partner)}/retry"))
        {
            Content = JsonContent.Create(new { reason }),
        };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        try
        {
            using var response = await clients.CreateClient(Name).SendAsync(request, cancellationToken);
            return response.StatusCode switch
            {
                HttpStatusCode.Accepted => new RetryOutcome(true, response.StatusCode, "The gateway is sending the push again."),
                HttpStatusCode.Conflict => new RetryOutcome(false, response.StatusCode, "Nothing to retry: no push of this package to this partner is dead-lettered now."),
                HttpStatusCode.Forbidden or HttpStatusCode.Unauthorized =>
                    new RetryOutcome(false, response.StatusCode, "The gateway refused: your role or organisation does not allow operator retries, or your session has expired."),
                HttpStatusCode.NotFound => new RetryOutcome(false, response.StatusCode, "The gateway has no push of this package to this partner."),
                _ => new RetryOutcome(false, response.StatusCode, $"The gateway answered {(int)response.StatusCode}; nothing was retried."),
            };
        }
        catch (HttpRequestException)
        {
            return new RetryOutcome(false, HttpStatusCode.BadGateway, "The gateway could not be reached; nothing was retried.");
        }
    }
}
