using System.Text.Json.Nodes;

namespace TOEX.Sharing.Sealing.Tests;

public sealed class LocalKeyRingTests : IDisposable
{
    private readonly TempDirectory directory = new();

    [Fact]
    public void First_use_creates_one_P256_key_and_later_opens_find_the_same_key()
    {
        var path = directory.Combine("ring");
        string keyId;
        using (var created = LocalKeyRing.OpenOrCreate(path, TestClock.Create()))
        {
            keyId = created.Current.KeyId;
            Assert.Single(created.All);
            Assert.Equal("ES256", created.Current.Algorithm);
        }

        using var reopened = LocalKeyRing.OpenOrCreate(path, TestClock.Create());

        Assert.Equal(keyId, reopened.Current.KeyId);
        Assert.Single(reopened.All);
        Assert.Same(reopened.Current, reopened.Find(keyId));
        Assert.Null(reopened.Find("unknown"));
    }

    [Fact]
    public void Key_id_is_the_RFC7638_thumbprint_of_the_public_key()
    {
        using var ring = LocalKeyRing.OpenOrCreate(directory.Combine("ring"), TestClock.Create());

        Assert.Equal(JsonWebKeys.Thumbprint(ring.Current.PublicJwk), ring.Current.KeyId);
    }

    [Fact]
    public void Rotation_makes_a_new_current_key_and_keeps_publishing_the_retired_one()
    {
        var path = directory.Combine("ring");
        var clock = TestClock.Create();
        string retired, current;
        using (var ring = LocalKeyRing.OpenOrCreate(path, clock))
        {
            retired = ring.Current.KeyId;
            clock.Advance(TimeSpan.FromDays(90));
            current = ring.Rotate().KeyId;

            Assert.NotEqual(retired, current);
            Assert.Equal(current, ring.Current.KeyId);
            Assert.Equal([current, retired], ring.All.Select(key => key.KeyId));
            Assert.Equal([current, retired], KeyIds(ring.PublicJwks()));
        }

        using var reopened = LocalKeyRing.OpenOrCreate(path, TestClock.Create());
        Assert.Equal(current, reopened.Current.KeyId);
        Assert.Equal([current, retired], KeyIds(reopened.PublicJwks()));
        Assert.NotNull(reopened.Find(retired));

        var manifest = JsonNode.Parse(File.ReadAllText(Path.Combine(path, LocalKeyRing.ManifestFileName)))!;
        var retiredEntry = manifest["keys"]!.AsArray().Single(entry => (string?)entry!["kid"] == retired)!;
        Assert.Equal(TestClock.Start.AddDays(90), retiredEntry["retiredAt"]!.GetValue<DateTimeOffset>());
    }

    [Fact]
    public void Public_jwks_holds_only_public_members()
    {
        using var ring = LocalKeyRing.OpenOrCreate(directory.Combine("ring"), TestClock.Create());
        ring.Rotate();

        var keys = JsonNode.Parse(ring.PublicJwks())!["keys"]!.AsArray();

        Assert.Equal(2, keys.Count);
        foreach (var key in keys)
        {
            Assert.Equal(["kty", "crv", "x", "y", "kid", "use", "alg"], key!.AsObject().Select(member => member.Key));
            Assert.Equal("EC", (string?)key["kty"]);
            Assert.Equal("P-256", (string?)key["crv"]);
            Assert.Equal("sig", (string?)key["use"]);
            Assert.Equal("ES256", (string?)key["alg"]);
        }
    }

    [Fact]
    public void Directory_and_key_files_are_readable_by_the_owner_only()
    {
        var path = directory.Combine("parent/ring");
        using var ring = LocalKeyRing.OpenOrCreate(path, TestClock.Create());
        ring.Rotate();
        if (OperatingSystem.IsWindows())
        {
            return; // Windows has no Unix modes; the directory inherits its parent's ACL.
        }

        const UnixFileMode ownerOnly = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        Assert.Equal(ownerOnly | UnixFileMode.UserExecute, File.GetUnixFileMode(path));
        foreach (var file in Directory.GetFiles(path))
        {
            Assert.Equal(ownerOnly, File.GetUnixFileMode(file));
        }

        Assert.Equal(3, Directory.GetFiles(path).Length);
    }

    [Fact]
    public void Concurrent_first_opens_agree_on_one_key()
    {
        var path = directory.Combine("ring");

        var keyIds = Enumerable.Range(0, 8)
            .AsParallel()
            .Select(_ =>
            {
                using var ring = LocalKeyRing.OpenOrCreate(path, TestClock.Create());
                return ring.Current.KeyId;
            })
            .ToList();

        Assert.Single(keyIds.Distinct());
        Assert.Single(Directory.GetFiles(path, "*.private.jwk"));
    }

    [Fact]
    public void Missing_key_file_is_reported_plainly()
    {
        var path = directory.Combine("ring");
        string keyId;
        using (var ring = LocalKeyRing.OpenOrCreate(path, TestClock.Create()))
        {
            keyId = ring.Current.KeyId;
        }

        File.Delete(Path.Combine(path, keyId + ".private.jwk"));

        var error = Assert.Throws<SealException>(() => LocalKeyRing.OpenOrCreate(path, TestClock.Create()));
        Assert.Contains("is missing", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_ring_others_can_read_is_refused_naming_the_mode()
    {
        if (OperatingSystem.IsWindows())
        {
            return; // No Unix modes on Windows.
        }
        var path = directory.Combine("ring");
        string keyId;
        using (var ring = LocalKeyRing.OpenOrCreate(path, TestClock.Create()))
        {
            keyId = ring.Current.KeyId;
        }

        File.SetUnixFileMode(path, (UnixFileMode)0b111_101_101);
        var open = Assert.Throws<SealException>(() => LocalKeyRing.OpenOrCreate(path, TestClock.Create()));
        Assert.Contains("mode 755", open.Message, StringComparison.Ordinal);

        File.SetUnixFileMode(path, (UnixFileMode)0b111_000_000);
        File.SetUnixFileMode(Path.Combine(path, keyId + ".private.jwk"), (UnixFileMode)0b110_100_000);
        var key = Assert.Throws<SealException>(() => LocalKeyRing.OpenOrCreate(path, TestClock.Create()));
        Assert.Contains("mode 640", key.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_rotation_by_another_process_is_used_at_the_next_signature()
    {
        var path = directory.Combine("ring");
        using var service = LocalKeyRing.OpenOrCreate(path, TestClock.Create());
        var before = service.Current.KeyId;

        using (var operator_ = LocalKeyRing.OpenOrCreate(path, TestClock.Create()))
        {
            operator_.Rotate();
        }

        Assert.NotEqual(before, service.Current.KeyId);
        Assert.Equal(2, service.All.Count);
        Assert.Contains(before, service.PublicJwks(), StringComparison.Ordinal);
    }

    [Fact]
    public void An_Ed25519_ring_signs_EdDSA_and_refuses_an_ES256_key()
    {
        var path = directory.Combine("webhook");
        using (var ring = LocalKeyRing.OpenOrCreate(path, TestClock.Create(), JoseNames.WebhookSignatureAlgorithm))
        {
            Assert.Equal("EdDSA", ring.Current.Algorithm);
            var jwk = JsonNode.Parse(ring.Current.PublicJwk)!;
            Assert.Equal("OKP", (string?)jwk["kty"]);
            Assert.Equal(64, ring.Current.SignData("x"u8).Length);
        }

        Assert.Throws<SealException>(() => LocalKeyRing.OpenOrCreate(path, TestClock.Create()));
    }

    public void Dispose() => directory.Dispose();

    private static IEnumerable<string> KeyIds(string jwks) =>
        JsonNode.Parse(jwks)!["keys"]!.AsArray().Select(key => (string)key!["kid"]!);
}
