using System.Text.Json.Nodes;

namespace TOEX.Sharing.Sealing.Tests;

/// <summary>A partner's registry entry with lifetimes and revocations: the newest valid key is used, nothing else ever.</summary>
public sealed class RecipientKeySetTests
{
    private static readonly DateTimeOffset Now = new(2026, 6, 1, 12, 0, 0, TimeSpan.Zero);

    private static JsonObject PublicKey(string kid, KeyKind kind = KeyKind.EC) =>
        JsonWebKeys.PublicOf(KeyFiles.CreatePrivateJwk(kind, KeyUse.Encryption, kid, rsaBits: 2048), "test key");

    private static JsonObject WithLifetime(JsonObject jwk, DateTimeOffset? notBefore, DateTimeOffset? expires)
    {
        if (notBefore is { } from)
        {
            jwk["nbf"] = from.ToUnixTimeSeconds();
        }
        if (expires is { } until)
        {
            jwk["exp"] = until.ToUnixTimeSeconds();
        }
        return jwk;
    }

    private static string Set(params JsonObject[] keys) => JsonWebKeys.ToKeySetJson(keys);

    [Fact]
    public void Copies_are_sealed_to_the_newest_valid_key()
    {
        var set = RecipientKeySet.Parse(Set(
            WithLifetime(PublicKey("old"), Now.AddDays(-30), Now.AddDays(30)),
            WithLifetime(PublicKey("new"), Now.AddDays(-1), null),
            WithLifetime(PublicKey("next"), Now.AddDays(7), null)));

        Assert.Equal("new", set.Select(Now).Key!.KeyId);
        Assert.Equal("next", set.Select(Now.AddDays(7)).Key!.KeyId);
        Assert.Equal(RecipientKeyState.NotYetValid, set.Keys[2].StateAt(Now));
        Assert.Equal(RecipientKeyState.Valid, set.Keys[0].StateAt(Now));
    }

    [Fact]
    public void An_expired_key_is_never_used_and_the_reason_says_when_it_expired()
    {
        var set = RecipientKeySet.Parse(Set(WithLifetime(PublicKey("only"), null, Now)));

        Assert.Equal("only", set.Select(Now.AddSeconds(-1)).Key!.KeyId);
        var (key, problem) = set.Select(Now);
        Assert.Null(key);
        Assert.Equal("No valid encryption key is registered for this partner: key 'only' expired at 2026-06-01T12:00:00Z.", problem);
    }

    [Fact]
    public void A_key_not_yet_valid_is_never_used()
    {
        var set = RecipientKeySet.Parse(Set(WithLifetime(PublicKey("later"), Now.AddMinutes(1), null)));

        var (key, problem) = set.Select(Now);

        Assert.Null(key);
        Assert.Contains("key 'later' is not valid before 2026-06-01T12:01:00Z", problem, StringComparison.Ordinal);
    }

    [Fact]
    public void A_revoked_key_is_never_used_even_when_it_is_still_listed_among_the_keys()
    {
        var revoked = PublicKey("stolen");
        var text = RecipientKeySet.Parse(Set(PublicKey("older"), revoked)).WithRevoked("stolen", Now.AddHours(-1));
        var set = RecipientKeySet.Parse(text);

        Assert.Equal("older", set.Select(Now).Key!.KeyId);
        Assert.Equal("stolen", Assert.Single(set.Revoked).KeyId);
        Assert.DoesNotContain(set.Keys, k => k.KeyId == "stolen");

        // Put back among the keys by a careless hand-edit: still revoked, because it is on the revoked list.
        var edited = JsonNode.Parse(text)!.AsObject();
        edited["keys"]!.AsArray().Add(revoked.DeepClone());
        var careless = RecipientKeySet.Parse(edited.ToJsonString());
        Assert.Equal(RecipientKeyState.Revoked, careless.Keys[^1].StateAt(Now));
        Assert.Equal("older", careless.Select(Now).Key!.KeyId);
    }

    [Fact]
    public void A_set_whose_every_key_is_revoked_or_expired_gives_nothing_and_says_why_for_each()
    {
        var text = RecipientKeySet.Parse(Set(WithLifetime(PublicKey("a"), null, Now.AddDays(-1)), PublicKey("b")))
            .WithRevoked("b", Now.AddHours(-2));

        var (key, problem) = RecipientKeySet.Parse(text).Select(Now);

        Assert.Null(key);
        Assert.Equal("No valid encryption key is registered for this partner: key 'a' expired at 2026-05-31T12:00:00Z; "
            + "key 'b' is revoked (since 2026-06-01T10:00:00Z).", problem);
    }

    [Fact]
    public void A_malformed_lifetime_makes_that_key_unusable_and_leaves_the_others()
    {
        var broken = PublicKey("broken");
        broken["exp"] = "next year";
        var set = RecipientKeySet.Parse(Set(PublicKey("good"), broken));

        Assert.Equal("good", set.Select(Now).Key!.KeyId);
        Assert.Equal(RecipientKeyState.Unusable, set.Keys[1].StateAt(Now));
        Assert.Contains("'exp' is not a NumericDate", set.Keys[1].Problem, StringComparison.Ordinal);
    }

    [Fact]
    public void An_unreadable_revocation_makes_the_whole_set_unusable()
    {
        var root = new JsonObject { ["keys"] = new JsonArray(PublicKey("good")), ["revoked"] = new JsonArray(new JsonObject { ["kid"] = "which?" }) };

        var error = Assert.Throws<SealException>(() => RecipientKeySet.Parse(root.ToJsonString()));

        Assert.Contains("Revoked key 1 cannot be read, so no key of the set can be trusted", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_single_key_file_of_earlier_versions_is_a_set_of_one_valid_key()
    {
        var set = RecipientKeySet.Parse(PublicKey("legacy", KeyKind.Rsa).ToJsonString());

        Assert.Equal("legacy", set.Select(Now).Key!.KeyId);
        Assert.Null(set.Keys[0].NotBefore);
    }

    [Fact]
    public void A_registered_key_keeps_its_lifetime_and_becomes_the_newest()
    {
        var (jwk, key) = RecipientKeySet.ReadNewKey(PublicKey("fresh", KeyKind.Rsa).ToJsonString());
        var set = RecipientKeySet.Parse(RecipientKeySet.Parse(Set(PublicKey("current"))).WithKey(jwk, Now.AddHours(1), Now.AddDays(365)));

        Assert.Equal("current", set.Select(Now).Key!.KeyId);
        Assert.Equal("fresh", set.Select(Now.AddHours(1)).Key!.KeyId);
        Assert.Equal(Now.AddDays(365), set.Keys[^1].Expires);
        Assert.Equal("RSA 2048", set.Keys[^1].Type);
        Assert.Equal("This key is already registered.", set.ConflictOf(key));
    }

    [Fact]
    public void A_revoked_key_is_never_registered_again()
    {
        var jwk = PublicKey("gone");
        var set = RecipientKeySet.Parse(RecipientKeySet.Parse(Set(PublicKey("current"), jwk)).WithRevoked("gone", Now));

        var (_, key) = RecipientKeySet.ReadNewKey(jwk.ToJsonString());

        Assert.Equal("This key was revoked; a revoked key is never registered again.", set.ConflictOf(key));
    }

    [Fact]
    public void A_new_key_with_another_keys_kid_is_refused()
    {
        var set = RecipientKeySet.Parse(Set(PublicKey("same")));

        var (_, key) = RecipientKeySet.ReadNewKey(PublicKey("same").ToJsonString());

        Assert.Equal("Another key of the set already has the kid 'same'.", set.ConflictOf(key));
    }

    [Theory]
    [InlineData("""{"kty":"EC","crv":"P-256"}""", "The key")]
    [InlineData("""{"kty":"oct","k":"c2VjcmV0"}""", "only EC (P-256, P-384) and RSA keys")]
    public void A_malformed_new_key_is_refused_saying_why(string jwk, string expected)
    {
        var error = Assert.Throws<SealException>(() => RecipientKeySet.ReadNewKey(jwk));

        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_new_key_with_its_private_half_or_for_signing_or_its_own_lifetime_is_refused()
    {
        var withPrivate = KeyFiles.CreatePrivateJwk(KeyKind.EC, KeyUse.Encryption, "p");
        var signing = JsonWebKeys.PublicOf(KeyFiles.CreatePrivateJwk(KeyKind.EC, KeyUse.Signature, "s"), "k");
        var dated = WithLifetime(PublicKey("d"), Now, null);
        var oddKid = PublicKey("has a space");

        Assert.Contains("private key material", Assert.Throws<SealException>(() => RecipientKeySet.ReadNewKey(withPrivate.ToJsonString())).Message, StringComparison.Ordinal);
        Assert.Contains("not encryption", Assert.Throws<SealException>(() => RecipientKeySet.ReadNewKey(signing.ToJsonString())).Message, StringComparison.Ordinal);
        Assert.Contains("notBefore and expires", Assert.Throws<SealException>(() => RecipientKeySet.ReadNewKey(dated.ToJsonString())).Message, StringComparison.Ordinal);
        Assert.Contains("kid must be", Assert.Throws<SealException>(() => RecipientKeySet.ReadNewKey(oddKid.ToJsonString())).Message, StringComparison.Ordinal);
    }
}
