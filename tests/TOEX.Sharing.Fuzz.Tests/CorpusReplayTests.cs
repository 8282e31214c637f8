using System.Text;
using TOEX.Sharing.Fuzz;
using TOEX.Sharing.Sealing;
using TOEX.Sharing.Testing;
using Xunit.Abstractions;

namespace TOEX.Sharing.Fuzz.Tests;

/// <summary>
/// Every file of the seed corpus (<c>tests/TOEX.Sharing.Fuzz/corpus/TARGET</c>) and every crash AFL recorded
/// (<c>crashes/TARGET</c>, kept as regressions) goes through the same entry point AFL fuzzes, without an exception
/// other than the target's documented refusal; and the seeds are what they claim (the sealed copies open, the signed
/// webhooks verify), so the targets are not refusing everything.
/// </summary>
public sealed class CorpusReplayTests(ITestOutputHelper output)
{
    private static string FuzzProject => Path.Combine(RepoPaths.Root, "tests", "TOEX.Sharing.Fuzz");

    public static TheoryData<string> Targets() => [.. FuzzTargets.All];

    [Theory]
    [MemberData(nameof(Targets))]
    public void Every_corpus_and_crash_file_goes_through_its_target_without_an_unexpected_exception(string target)
    {
        var files = new[] { "corpus", "crashes" }
            .Select(folder => Path.Combine(FuzzProject, folder, target))
            .Where(Directory.Exists)
            .SelectMany(Directory.EnumerateFiles)
            .Order(StringComparer.Ordinal)
            .ToList();
        Assert.NotEmpty(files);
        var run = FuzzTargets.Get(target);
        foreach (var file in files)
        {
            var exception = Record.Exception(() => run(File.ReadAllBytes(file)));
            Assert.True(exception is null, $"{Path.GetRelativePath(FuzzProject, file)}: {exception}");
        }
        output.WriteLine($"{target}: {files.Count} files replayed, none crashed");
    }

    [Fact]
    public void The_sealed_seeds_open_and_the_signed_seeds_verify()
    {
        var keys = FuzzTargets.KeysDirectory;
        var recipient = File.ReadAllText(Path.Combine(keys, "recipient.private.jwk"));
        var broker = File.ReadAllText(Path.Combine(keys, "broker.jwks.json"));
        var sealedSeeds = Directory.GetFiles(Path.Combine(FuzzProject, "corpus", FuzzTargets.Opener), "*.jwe");
        Assert.NotEmpty(sealedSeeds);
        foreach (var file in sealedSeeds)
        {
            Assert.StartsWith("{", PackageOpener.Open(File.ReadAllText(file), recipient, broker), StringComparison.Ordinal);
        }

        var webhookKeys = File.ReadAllText(Path.Combine(keys, "webhook.jwks.json"));
        var signedSeeds = Directory.GetFiles(Path.Combine(FuzzProject, "corpus", FuzzTargets.Webhook), "*.webhook");
        Assert.NotEmpty(signedSeeds);
        foreach (var file in signedSeeds)
        {
            var parts = File.ReadAllText(file, Encoding.UTF8).Split('\n', 4);
            StandardWebhook.Verify(parts[0], parts[1], parts[2], parts[3], webhookKeys, FuzzTargets.WebhookClock);
            // One byte of the body changed and it no longer verifies.
            Assert.Throws<SealException>(() => StandardWebhook.Verify(parts[0], parts[1], parts[2], parts[3] + " ", webhookKeys, FuzzTargets.WebhookClock));
        }
    }

    [Fact]
    public void A_timestamp_past_the_year_9999_is_refused_not_thrown()
    {
        // Found by AFL (crashes/webhook/timestamp-past-year-9999): DateTimeOffset.FromUnixTimeSeconds threw ArgumentOutOfRangeException.
        var keys = File.ReadAllText(Path.Combine(FuzzTargets.KeysDirectory, "webhook.jwks.json"));
        var refused = Assert.Throws<SealException>(() =>
            StandardWebhook.Verify("msg_x", "1795400000000", "v1a,AAAA", "{}", keys, FuzzTargets.WebhookClock));
        Assert.Contains("too far", refused.Message, StringComparison.Ordinal);
    }
}
