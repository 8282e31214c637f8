using TOEX.Sharing.Testing;

namespace TOEX.Sharing.EndToEnd.Tests;

public sealed class StartupTests
{
    [Fact]
    public async Task PolicyDecision_refuses_to_start_on_a_broken_policy_file_naming_file_and_line()
    {
        var policies = Directory.CreateTempSubdirectory("toex-broken-policies-").FullName;
        try
        {
            foreach (var file in Directory.EnumerateFiles(RepoPaths.Policies, "*.yaml"))
            {
                File.Copy(file, Path.Combine(policies, Path.GetFileName(file)));
            }
            var agreements = Path.Combine(policies, "agreements.yaml");
            var text = File.ReadAllText(agreements);
            Assert.Contains("purposes: [law-enforcement]", text, StringComparison.Ordinal);
            var at = text.IndexOf("purposes: [law-enforcement]", StringComparison.Ordinal);
            File.WriteAllText(agreements, text[..at] + "purposes: [law-enforcement, tea-and-biscuits]" + text[(at + "purposes: [law-enforcement]".Length)..]);

            await using var process = ChildProcess.StartDotnet(ChildProcess.BuiltServicePath("TOEX.Sharing.PolicyDecision"),
                new Dictionary<string, string?>
                {
                    ["DOTNET_ENVIRONMENT"] = "Development",
                    ["RabbitMq__Url"] = "amqp://nobody:nothing@127.0.0.1:1/",
                    ["PolicyDecision__PoliciesPath"] = policies,
                    ["PolicyDecision__KeyRingPath"] = Path.Combine(policies, "keys"),
                    ["PolicyDecision__PublicJwksPath"] = Path.Combine(policies, "keys.jwks.json"),
                }, name: "policy-decision");

            var line = await process.WaitForOutputAsync("agreements.yaml:", TimeSpan.FromSeconds(60));
            Assert.Matches(@"agreements\.yaml:\d+: .*tea-and-biscuits", line);
            await process.WaitForExitAsync(TimeSpan.FromSeconds(30));
            Assert.Equal(1, process.ExitCode);
        }
        finally
        {
            Directory.Delete(policies, recursive: true);
        }
    }
}
