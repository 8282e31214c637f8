using System.Text.Json.Nodes;
using TOEX.Sharing.Testing;

namespace TOEX.Sharing.EndToEnd.Tests;

/// <summary>
/// The three services as processes with the push partners' endpoints registered as local development
/// endpoints: real Kestrel receivers on loopback for wmp and bcc-childrens, and a port nothing listens on
/// for staffs (down until a test starts a receiver there). Retries start at 200 ms so a test sees several.
/// </summary>
public sealed class PushServices : IAsyncLifetime
{
    public RunningServices Stack { get; } = new();
    public Dictionary<string, WebhookReceiver> Receivers { get; } = [];
    public int StaffsPort { get; } = FreePort.Next();

    public async Task InitializeAsync()
    {
        foreach (var partner in new[] { "wmp", "bcc-childrens", "safe-haven" })
        {
            Receivers[partner] = await WebhookReceiver.StartAsync();
            Register(partner, Receivers[partner].Url);
        }
        Register("staffs", new Uri($"http://127.0.0.1:{StaffsPort}/hooks"));
        Stack.GatewaySettings["Gateway__Webhooks__FirstRetryDelay"] = "00:00:00.200";
        Stack.GatewaySettings["Gateway__Webhooks__MaxRetryDelay"] = "00:00:02";
        Stack.GatewaySettings["Gateway__Webhooks__Jitter"] = "0";
        await Stack.InitializeAsync();
    }

    private void Register(string partner, Uri endpoint)
    {
        Directory.CreateDirectory(Stack.PartnerKeysDirectory);
        File.WriteAllText(Path.Combine(Stack.PartnerKeysDirectory, partner + ".webhook.json"),
            new JsonObject { ["endpoint"] = endpoint.ToString(), ["localDevelopment"] = true }.ToJsonString());
    }

    public async Task DisposeAsync()
    {
        await Stack.DisposeAsync();
        foreach (var receiver in Receivers.Values)
        {
            await receiver.DisposeAsync();
        }
    }
}
