using k8s;
using k8s.Models;
using TOEX.Sharing.Testing;

namespace TOEX.Sharing.Deploy.Tests;

/// <summary>
/// Every Kustomize overlay of <c>deploy/kubernetes</c> renders with <c>kubectl kustomize</c> (no error, no warning), every
/// rendered manifest passes the Kubernetes schemas (kubernetes-models, in <c>deploy/kubernetes/validate</c>) and loads
/// strictly as its Kubernetes type (KubernetesClient: an unknown field fails), and the overlay keeps what issue 17 asks
/// of it: probes, resources, a hardened pod, secrets only by reference, the policy set mounted as a folder, autoscaling
/// and disruption budgets, network policies, and the audit worker as a writer with a standby.
/// </summary>
public sealed class KubernetesTests
{
    public static string Kubernetes => Path.Combine(RepoPaths.Root, "deploy", "kubernetes");

    public static IReadOnlyList<string> OverlayNames =>
        [.. Directory.GetDirectories(Path.Combine(Kubernetes, "overlays")).Select(path => Path.GetFileName(path)).Order(StringComparer.Ordinal)];

    public static TheoryData<string> Overlays() => [.. OverlayNames];

    private static async Task<string> RenderAsync(string overlay)
    {
        var kubectl = Tool.Require("kubectl", "it renders the Kustomize overlays (kubectl kustomize, kustomize v5). It comes with the "
            + "machine image (google-cloud-cli's kubectl); Debian 12's kubernetes-client (kubectl 1.20, kustomize v2) is too old for these overlays.");
        var rendered = await Tool.RunAsync(kubectl, ["kustomize", Path.Combine(Kubernetes, "overlays", overlay)]);
        Assert.True(rendered.ExitCode == 0 && rendered.Error.Trim().Length == 0, $"kubectl kustomize overlays/{overlay}: {rendered}");
        return rendered.Output;
    }

    [Fact]
    public void There_are_a_development_and_a_production_overlay()
    {
        Assert.Equal(["development", "production"], OverlayNames);
    }

    [Theory]
    [MemberData(nameof(Overlays))]
    public async Task The_overlay_renders_and_every_manifest_passes_the_Kubernetes_schemas(string overlay)
    {
        var rendered = await RenderAsync(overlay);
        var file = Path.Combine(Path.GetTempPath(), $"toex-{overlay}-{Guid.NewGuid():N}.yaml");
        await File.WriteAllTextAsync(file, rendered);
        try
        {
            var validator = Path.Combine(Kubernetes, "validate");
            Assert.True(Directory.Exists(Path.Combine(validator, "node_modules", "kubernetes-models")),
                "The schema validator's npm packages are not installed: run 'npm ci' in deploy/kubernetes/validate (.ci/run does).");
            var node = Tool.Require("node", "it runs the schema validator (Node 20 with npm).");
            var validated = await Tool.RunAsync(node, ["validate.mjs", file], validator);
            Assert.True(validated.ExitCode == 0, $"overlays/{overlay} against the Kubernetes schemas: {validated}");
        }
        finally
        {
            File.Delete(file);
        }

        // Strict: a field the Kubernetes type does not have (a typo, a field of another version) fails the load.
        var manifests = KubernetesYaml.LoadAllFromString(rendered, strict: true);
        Assert.NotEmpty(manifests);
        Assert.DoesNotContain(manifests, m => m is V1Secret);
    }

    [Theory]
    [MemberData(nameof(Overlays))]
    public async Task Each_service_is_hardened_probed_bounded_and_configured_by_reference(string overlay)
    {
        var manifests = KubernetesYaml.LoadAllFromString(await RenderAsync(overlay), strict: true);
        var deployments = manifests.OfType<V1Deployment>().ToDictionary(d => d.Metadata.Name);
        Assert.Equal(["toex-audit", "toex-gateway", "toex-policy-decision"], deployments.Keys.Order(StringComparer.Ordinal));

        foreach (var (name, deployment) in deployments)
        {
            var pod = deployment.Spec.Template.Spec;
            Assert.True(pod.SecurityContext.RunAsNonRoot == true && pod.SecurityContext.RunAsUser is > 0, $"{name}: non-root");
            Assert.Equal("RuntimeDefault", pod.SecurityContext.SeccompProfile?.Type);
            Assert.False(pod.AutomountServiceAccountToken ?? true, $"{name}: no service account token");
            foreach (var container in pod.Containers)
            {
                var where = $"{name}/{container.Name}";
                Assert.True(container.SecurityContext.ReadOnlyRootFilesystem == true, $"{where}: read-only root filesystem");
                Assert.True(container.SecurityContext.AllowPrivilegeEscalation == false, $"{where}: no privilege escalation");
                Assert.Equal(["ALL"], container.SecurityContext.Capabilities.Drop);
                Assert.Null(container.SecurityContext.Capabilities.Add);
                Assert.Equal("/health", container.ReadinessProbe?.HttpGet?.Path);
                Assert.Equal("/alive", container.LivenessProbe?.HttpGet?.Path);
                Assert.True(container.Resources.Requests.ContainsKey("cpu") && container.Resources.Requests.ContainsKey("memory"), $"{where}: requests");
                Assert.True(container.Resources.Limits.ContainsKey("cpu") && container.Resources.Limits.ContainsKey("memory"), $"{where}: limits");
                // Secrets by reference only: every value that names a secret comes from a Secret, none is written here.
                Assert.All(container.Env ?? [], env => Assert.True(env.ValueFrom?.SecretKeyRef is not null || !LooksSecret(env.Name),
                    $"{where}: {env.Name} is given in clear"));
            }
            Assert.All(pod.Volumes.Where(v => v.Secret is not null), v => Assert.Equal(256, v.Secret.DefaultMode)); // 0400
        }

        // The policy set: the toex-policies ConfigMap as a folder (a subPath mount would never see an update).
        foreach (var name in new[] { "toex-gateway", "toex-policy-decision" })
        {
            var pod = deployments[name].Spec.Template.Spec;
            var volume = Assert.Single(pod.Volumes, v => v.ConfigMap?.Name == "toex-policies");
            var mount = Assert.Single(pod.Containers[0].VolumeMounts, m => m.Name == volume.Name);
            Assert.Null(mount.SubPath);
            Assert.True(mount.ReadOnlyProperty);
        }
        // Stable names the platform team creates: referenced, never generated here (a generated name changes with the content).
        Assert.DoesNotContain(manifests.OfType<V1ConfigMap>(), c => c.Metadata.Name.StartsWith("toex-policies", StringComparison.Ordinal));

        // Scale: the gateway and PolicyDecision autoscale; every service has a disruption budget.
        Assert.Equal(["toex-gateway", "toex-policy-decision"],
            manifests.OfType<V2HorizontalPodAutoscaler>().Select(h => h.Spec.ScaleTargetRef.Name).Order(StringComparer.Ordinal));
        Assert.Equal(deployments.Keys.Order(StringComparer.Ordinal),
            manifests.OfType<V1PodDisruptionBudget>().Select(p => p.Spec.Selector.MatchLabels["app.kubernetes.io/name"]).Order(StringComparer.Ordinal));

        // The audit worker: one active writer and a standby, on single-active-consumer queues.
        var audit = deployments["toex-audit"];
        Assert.Equal(2, audit.Spec.Replicas);
        var settings = manifests.OfType<V1ConfigMap>().Single(c => audit.Spec.Template.Spec.Containers[0].EnvFrom.Any(e => e.ConfigMapRef?.Name == c.Metadata.Name));
        Assert.Equal("true", settings.Data["Audit__SingleActiveConsumer"]);
    }

    [Theory]
    [MemberData(nameof(Overlays))]
    public async Task Only_the_gateway_is_reachable_from_outside_and_PolicyDecision_reaches_only_the_broker(string overlay)
    {
        var policies = KubernetesYaml.LoadAllFromString(await RenderAsync(overlay), strict: true).OfType<V1NetworkPolicy>().ToList();
        var deny = Assert.Single(policies, p => p.Spec.PodSelector.MatchLabels is null && p.Spec.Ingress is null && p.Spec.Egress is null);
        Assert.Equal(["Egress", "Ingress"], deny.Spec.PolicyTypes.Order(StringComparer.Ordinal));

        V1NetworkPolicy For(string name) => Assert.Single(policies, p => p.Spec.PodSelector.MatchLabels?["app.kubernetes.io/name"] == name);
        // The gateway admits anyone, on its port only.
        var gateway = Assert.Single(For("toex-gateway").Spec.Ingress);
        Assert.Null(gateway.FromProperty);
        Assert.Equal(["8080"], gateway.Ports.Select(p => p.Port.Value));
        // PolicyDecision admits no one and reaches only the broker's ports.
        var decision = For("toex-policy-decision");
        Assert.Empty(decision.Spec.Ingress);
        Assert.Equal(["5671", "5672"], decision.Spec.Egress.SelectMany(e => e.Ports).Select(p => p.Port.Value).Order(StringComparer.Ordinal));
        // The audit service admits the ingress controller's namespace only.
        var audit = Assert.Single(For("toex-audit").Spec.Ingress);
        Assert.All(audit.FromProperty, peer => Assert.NotNull(peer.NamespaceSelector));
    }

    private static bool LooksSecret(string name) =>
        name.Contains("Url", StringComparison.OrdinalIgnoreCase) || name.Contains("Connection", StringComparison.OrdinalIgnoreCase)
        || name.Contains("Password", StringComparison.OrdinalIgnoreCase) || name.Contains("Secret", StringComparison.OrdinalIgnoreCase);
}
