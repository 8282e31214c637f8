using System.Text.Json.Nodes;
using TOEX.Sharing.Testing;

namespace TOEX.Sharing.Cli.Tests;

/// <summary><c>toex keys rotate --purpose P</c>: a rotation in the custody the KeyCustody settings name, old keys kept published.</summary>
public sealed class KeyRotateTests : IDisposable
{
    private readonly string temp = Directory.CreateTempSubdirectory("toex-rotate-").FullName;

    [Fact]
    public async Task Rotating_a_local_ring_makes_a_new_current_key_and_keeps_the_old_one_published()
    {
        var dir = Path.Combine(temp, "broker");
        var local = new Dictionary<string, string?> { ["KeyCustody__Provider"] = null };

        var first = await Toex.RunAsync(["keys", "rotate", "--purpose", "package-signing", "--dir", dir], local);
        var second = await Toex.RunAsync(["keys", "rotate", "--purpose", "package-signing", "--dir", dir], local);

        Assert.True(second.ExitCode == 0, second.ToString());
        Assert.Contains("package-signing (local): current key", second.Output, StringComparison.Ordinal);
        var keys = JsonNode.Parse(second.Output[second.Output.IndexOf('{', StringComparison.Ordinal)..])!["keys"]!.AsArray();
        Assert.Equal(3, keys.Count); // the ring's first key, made on open, then two rotations
        Assert.Contains(KeyIdIn(first.Output), keys.Select(k => (string?)k!["kid"]));
        Assert.Equal(KeyIdIn(second.Output), (string?)keys[0]!["kid"]);
    }

    [Fact]
    public async Task Rotating_in_a_PKCS11_token_names_the_new_key_and_local_keys_need_a_folder()
    {
        var hsm = SoftHsm.Instance;
        var prefix = "cli-" + Guid.NewGuid().ToString("N")[..10];
        var settings = new Dictionary<string, string?>(hsm.Environment)
        {
            ["KeyCustody__Provider"] = "pkcs11",
            ["KeyCustody__Pkcs11__Library"] = hsm.Library,
            ["KeyCustody__Pkcs11__TokenLabel"] = SoftHsm.TokenLabel,
            ["KeyCustody__Pkcs11__PinFile"] = hsm.PinFile,
            ["KeyCustody__Pkcs11__LabelPrefix"] = prefix,
        };

        var first = await Toex.RunAsync(["keys", "rotate", "--purpose", "decision-signing"], settings);
        var second = await Toex.RunAsync(["keys", "rotate", "--purpose", "decision-signing"], settings);
        var noFolder = await Toex.RunAsync(["keys", "rotate", "--purpose", "decision-signing"], new Dictionary<string, string?> { ["KeyCustody__Provider"] = null });
        var unknown = await Toex.RunAsync(["keys", "rotate", "--purpose", "everything"]);

        Assert.True(second.ExitCode == 0, second.ToString());
        Assert.Contains("decision-signing (pkcs11): current key", second.Output, StringComparison.Ordinal);
        Assert.Contains("1 earlier key(s) kept", second.Output, StringComparison.Ordinal);
        Assert.Contains(KeyIdIn(first.Output), second.Output, StringComparison.Ordinal);
        Assert.Equal(2, noFolder.ExitCode);
        Assert.Contains("--dir", noFolder.Error, StringComparison.Ordinal);
        Assert.Equal(2, unknown.ExitCode);
    }

    public void Dispose() => Directory.Delete(temp, recursive: true);

    private static string KeyIdIn(string output)
    {
        const string marker = "current key ";
        var start = output.IndexOf(marker, StringComparison.Ordinal) + marker.Length;
        return output[start..output.IndexOf(';', start)];
    }
}
