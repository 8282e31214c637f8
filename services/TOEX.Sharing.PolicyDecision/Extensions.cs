using MassTransit;
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
        var keys = LocalKeyRing.OpenOrCreate(options.KeyRingPath ?? LocalPaths.KeyRing("policy-decision"), TimeProvider.System);
        builder.Services.AddSingleton<IKeyRing>(keys);
        // Written where the gateway (and the audit service) read the keys that verify decisions.
        PublicKeyFile.Write(keys, options.PublicJwksPath ?? Path.Combine(LocalPaths.Root(), "keys", "policy-decision.jwks.json"));

        builder.AddToexMessaging("policy-decision", bus => bus.AddConsumer<PackageSubmittedConsumer, PackageSubmittedConsumerDefinition>(),
            waitUntilStarted: true);
        return builder;
    }
}
