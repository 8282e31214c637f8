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
        builder.AddToexPolicySet(options.PoliciesPath ?? PolicyPaths.FindDefault());
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
