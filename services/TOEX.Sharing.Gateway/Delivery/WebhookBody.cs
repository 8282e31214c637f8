using System.Globalization;
using System.Text.Json.Nodes;
using TOEX.Sharing.Gateway.Data;

namespace TOEX.Sharing.Gateway.Delivery;

/// <summary>
/// The JSON a push carries (Standard Webhooks' <c>type</c>, <c>timestamp</c>, <c>data</c>): the sealed compact JWE
/// exactly as on the feed, with its ids. The same for every attempt, so every attempt's signature covers the same bytes.
/// </summary>
public static class WebhookBody
{
    public static string For(FeedItem item) => new JsonObject
    {
        ["type"] = item.Kind == ItemKind.Recall ? "package.recalled" : "package.released",
        ["timestamp"] = item.ReleasedAt.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ss.fffZ", CultureInfo.InvariantCulture),
        ["data"] = new JsonObject
        {
            ["packageId"] = item.PackageId,
            ["recipient"] = item.Recipient,
            ["kind"] = item.Kind.Text(),
            ["cursor"] = item.Position.ToString(CultureInfo.InvariantCulture),
            ["sealed"] = item.Sealed,
            ["releasedAt"] = item.ReleasedAt.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ss.fffZ", CultureInfo.InvariantCulture),
        },
    }.ToJsonString();
}
