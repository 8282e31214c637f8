using System.Text;
using Microsoft.AspNetCore.Http;
using TOEX.Sharing.Contracts;
using TOEX.Sharing.Gateway.Apis;
using TOEX.Sharing.Sealing;

namespace TOEX.Sharing.Fuzz;

/// <summary>
/// The fuzz targets: each takes any bytes and either accepts them or refuses them the documented way. Any other
/// exception escapes, and is a crash (to AFL under <see cref="SharpFuzz.Fuzzer.Run(Action{Stream})"/>, to the replay
/// test under xUnit). The keys they trust are test keys checked in under <c>keys/</c> (made by <c>corpus</c>).
/// </summary>
public static class FuzzTargets
{
    public const string Package = "package";
    public const string Opener = "opener";
    public const string Webhook = "webhook";

    public static readonly IReadOnlyList<string> All = [Package, Opener, Webhook];

    /// <summary>The instant the webhook seeds were signed at (<c>corpus</c>): the verifier's clock.</summary>
    public static readonly DateTimeOffset WebhookClock = DateTimeOffset.FromUnixTimeSeconds(1_795_000_000);

    public static string KeysDirectory => Path.Combine(AppContext.BaseDirectory, "keys");

    private static readonly Lazy<string> RecipientPrivateJwk = new(() => File.ReadAllText(Path.Combine(KeysDirectory, "recipient.private.jwk")));
    private static readonly Lazy<string> BrokerJwks = new(() => File.ReadAllText(Path.Combine(KeysDirectory, "broker.jwks.json")));
    private static readonly Lazy<string> WebhookJwks = new(() => File.ReadAllText(Path.Combine(KeysDirectory, "webhook.jwks.json")));
    private static readonly Lazy<string> SealedSeed = new(() => File.ReadAllText(Path.Combine(KeysDirectory, "sealed.jwe")));
    private static readonly Lazy<string[]> SignedSeed = new(() => File.ReadAllText(Path.Combine(KeysDirectory, "signed.webhook")).Split('\n', 4));
    // Lazy, like the keys: instrumented code must not run before SharpFuzz has attached AFL's coverage map.
    private static readonly Lazy<SubjectBlindIndex> BlindIndex = new(() => new SubjectBlindIndex(new byte[32]));

    public static Action<byte[]> Get(string target) => target switch
    {
        Package => PackageParser,
        Opener => SealedPackageOpener,
        Webhook => WebhookVerifier,
        _ => throw new ArgumentException($"Unknown fuzz target '{target}': one of {string.Join(", ", All)}.", nameof(target)),
    };

    /// <summary>
    /// What the gateway does with a submission's body before anything is stored: read it as I-JSON within the size
    /// limit (JsonBody), validate it (PackageValidator), bind it, take its facts, its canonical form and its subjects'
    /// blind indexes (<see cref="PackagesApi.ParsePackageAsync"/>, the gateway's own). Refusals are results (a problem),
    /// never exceptions.
    /// </summary>
    public static void PackageParser(byte[] data)
    {
        var context = new DefaultHttpContext();
        context.Request.ContentType = "application/json";
        context.Request.ContentLength = data.Length;
        context.Request.Body = new MemoryStream(data, writable: false);
        var (package, _) = PackagesApi.ParsePackageAsync(context.Request, TimeProvider.System, CancellationToken.None).GetAwaiter().GetResult();
        if (package is null)
        {
            return;
        }
        _ = ToexJson.Serialize(package);
        _ = package.ToFacts();
        _ = BlindIndex.Value.Of(package.Subjects);
    }

    /// <summary>
    /// What a partner runs on a sealed package (PackageOpener): the input is the compact JWE, or, when it starts with
    /// <c>{</c>, the broker's JWKS (a partner fetches it) used to open the checked-in sealed seed. SealException is the
    /// documented refusal.
    /// </summary>
    public static void SealedPackageOpener(byte[] data)
    {
        var text = Encoding.UTF8.GetString(data);
        try
        {
            _ = text.StartsWith('{')
                ? PackageOpener.OpenPackage(SealedSeed.Value, RecipientPrivateJwk.Value, text)
                : PackageOpener.OpenPackage(text, RecipientPrivateJwk.Value, BrokerJwks.Value);
        }
        catch (SealException)
        {
        }
    }

    /// <summary>
    /// What a push receiver runs on a delivery (StandardWebhook.Verify): the input is <c>webhook-id</c>,
    /// <c>webhook-timestamp</c> and <c>webhook-signature</c> on a line each, then the body; or, when it starts with
    /// <c>{</c>, the webhook JWKS used to verify the checked-in signed seed. SealException is the documented refusal.
    /// </summary>
    public static void WebhookVerifier(byte[] data)
    {
        var text = Encoding.UTF8.GetString(data);
        try
        {
            if (text.StartsWith('{'))
            {
                var seed = SignedSeed.Value;
                StandardWebhook.Verify(seed[0], seed[1], seed[2], seed[3], text, WebhookClock);
                return;
            }
            var parts = text.Split('\n', 4);
            StandardWebhook.Verify(parts[0], parts.ElementAtOrDefault(1), parts.ElementAtOrDefault(2), parts.ElementAtOrDefault(3) ?? "",
                WebhookJwks.Value, WebhookClock);
        }
        catch (SealException)
        {
        }
    }
}
