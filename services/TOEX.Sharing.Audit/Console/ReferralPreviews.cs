using System.Text.Json.Nodes;
using MassTransit;
using Microsoft.Extensions.Options;
using TOEX.Sharing.Audit.Referrals;
using TOEX.Sharing.Contracts;
using TOEX.Sharing.Sealing;
using TOEX.Sharing.ServiceDefaults;

namespace TOEX.Sharing.Audit.Console;

/// <summary>The copy an approval would release, opened for display only; or why there is none.</summary>
public sealed record ReferralPreview(JsonObject? Copy, string? Unavailable);

/// <summary>
/// The audit service holds no package content (only blind indexes): the gateway does. For a referral the officer may
/// decide, the console asks the gateway over the bus (request/response) for the recipient's copy exactly as an approval
/// would release it. The gateway answers it signed by the broker and sealed for this service's preview key alone, so no
/// personal data crosses the bus in clear; it is opened here only to render the page, never stored or logged.
/// </summary>
public sealed class ReferralPreviews(
    IRequestClient<ReferralPreviewRequested> client, IOptions<AuditOptions> audit, IOptions<ConsoleOptions> console,
    IHttpClientFactory http, IWebHostEnvironment environment)
{
    /// <summary>The gateway's queue for preview requests (its <c>ReferralPreviewConsumerDefinition</c>).</summary>
    public const string GatewayQueue = "gateway-referral-preview";

    public const string KeyName = "audit-preview";

    public async Task<ReferralPreview> PreviewAsync(ReferralView referral, string officer, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(referral);
        if (console.Value.GatewayUrl is not { } gateway)
        {
            return new(null, "The console cannot check the gateway's signature on a preview: Console:GatewayUrl is not set.");
        }
        string privateKey;
        try
        {
            privateKey = PrivateKey();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or SealException)
        {
            return new(null, $"The console's preview key cannot be read ({e.Message}).");
        }
        ReferralPreviewAnswered answer;
        try
        {
            var response = await client.GetResponse<ReferralPreviewAnswered>(new ReferralPreviewRequested
            {
                ReferralId = referral.Id,
                PackageId = referral.PackageId,
                Originator = referral.Originator ?? "",
                Recipient = referral.Recipient,
                RequestedBy = officer,
            }, cancellationToken);
            answer = response.Message;
        }
        catch (RequestTimeoutException)
        {
            return new(null, "The gateway did not answer in time; try again.");
        }
        if (answer.Sealed is null)
        {
            return new(null, answer.Unavailable ?? "The gateway gave no preview.");
        }
        try
        {
            var brokerJwks = await http.CreateClient(GatewayClient.Name).GetStringAsync(new Uri(gateway, "/.well-known/jwks.json"), cancellationToken);
            return new(JsonNode.Parse(PackageOpener.Open(answer.Sealed, privateKey, brokerJwks))!.AsObject(), null);
        }
        catch (Exception e) when (e is SealException or HttpRequestException or System.Text.Json.JsonException)
        {
            return new(null, $"The preview could not be opened and verified: {e.Message}");
        }
    }

    /// <summary>The preview key's private half, created with its public set beside it on first use outside Production.</summary>
    private string PrivateKey()
    {
        var folder = audit.Value.PreviewKeyPath ?? Path.Combine(LocalPaths.Root(), "keys");
        var file = Path.Combine(folder, KeyName + KeyFiles.PrivateKeySuffix);
        if (!File.Exists(file) && !environment.IsProduction())
        {
            KeyFiles.Generate(folder, KeyKind.EC, KeyUse.Encryption, KeyName);
        }
        return KeyFiles.ReadPrivateJwk(file);
    }
}
