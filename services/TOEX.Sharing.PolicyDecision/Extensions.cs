using MassTransit;
using TOEX.Sharing.KeyCustody;
using TOEX.Sharing.Policy;
using TOEX.Sharing.Sealing;
using TOEX.Sharing.ServiceDefaults;

namespace TOEX.Sharing.PolicyDecision;

public sealed class PolicyDecisionOptions
{
    public const string Section = "PolicyDecision";

    /// <summary>The policy set folder; default the repository's <c>policies/</c>.</summary>
    public string? PoliciesPath { get; set; }

    /// <summary>The key ring this service signs decisions with; default <c>&lt;repo&gt;/.local/keys/policy-decision</c>.</summary>
    public string? KeyRingPath { get; set; }

    /// <summary>Where this service writes its public JWKS for the gateway (and audit) to verify decisions with.</summary>
    public string? PublicJwksPath { get; set; }
}

public static class Extensions
{
    public static IHostApplicationBuilder AddPolicyDecision(this IHostApplicationBuilder builder)
    {
        var options = builder.Configuration.GetSection(PolicyDecisionOptions.Section).Get<PolicyDecisionOptions>()
            ?? new PolicyDecisionOptions();

        // Loaded now, not lazily: a broken policy set must stop the service at start.
        var policies = PolicySet.Load(options.PoliciesPath ?? PolicyPaths.FindDefault());
        builder.Services.AddSingleton(policies);
        builder.Services.AddSingleton(new PolicyEngine(policies));
        // The decision keys, from the custody the KeyCustody settings name (local files, a PKCS#11 module, a vault); their
        // public half is written where the gateway and the audit service read it, at start and after every rotation.
        builder.AddKeyCustody(KeyPurpose.DecisionSigning);
        var jwksPath = options.PublicJwksPath ?? Path.Combine(LocalPaths.Root(), "keys", "policy-decision.jwks.json");
        builder.Services.AddSingleton<IKeyRing>(services => new PublishedKeyRing(services.GetRequiredService<KeyCustodies>()
            .SigningRing(KeyPurpose.DecisionSigning, options.KeyRingPath ?? LocalPaths.KeyRing("policy-decision")), jwksPath));

        builder.AddToexMessaging("policy-decision", bus => bus.AddConsumer<PackageSubmittedConsumer, PackageSubmittedConsumerDefinition>(),
            waitUntilStarted: true);
        return builder;
    }
}

/// <summary>
/// The decision keys, writing their public JWKS to <c>PolicyDecision:PublicJwksPath</c> whenever it differs from what
/// was last written, before the current key is handed out: a rotation made elsewhere is published before anything is
/// signed with the new key, and the old keys stay in it, so the gateway (which reads the file again on an unknown key)
/// verifies decisions signed before and after. Public keys only.
/// </summary>
public sealed class PublishedKeyRing(IKeyRing inner, string path) : IKeyRing
{
    private readonly Lock gate = new();
    private string? published;

    public SigningKey Current
    {
        get
        {
            var key = inner.Current;
            Publish();
            return key;
        }
    }

    public IReadOnlyList<SigningKey> All => inner.All;

    public string PublicJwks() => inner.PublicJwks();

    public SigningKey? Find(string kid) => inner.Find(kid);

    private void Publish()
    {
        var jwks = inner.PublicJwks();
        if (ReferenceEquals(jwks, published) || jwks == published)
        {
            return;
        }
        lock (gate)
        {
            Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
            var temporary = $"{path}.{Environment.ProcessId}.tmp";
            File.WriteAllText(temporary, jwks);
            File.Move(temporary, path, overwrite: true);
            published = jwks;
        }
    }
}
