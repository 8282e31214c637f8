using System.Text;

namespace TOEX.Sharing.Sealing.Tests;

/// <summary>Proof of possession of an encryption key: a challenge only the key's holder can open, good for one change only.</summary>
public sealed class KeyPossessionTests : IDisposable
{
    private readonly TempDirectory directory = new();
    private readonly LocalKeyRing broker;
    private readonly TestPartner partner = TestPartner.Create(KeyKind.EC);
    private readonly string intent;

    public KeyPossessionTests()
    {
        broker = LocalKeyRing.OpenOrCreate(directory.Combine("broker"), TestClock.Create());
        intent = KeyPossession.RegisterIntent("nca", "new-key-thumbprint", TestClock.Start, null);
    }

    public void Dispose()
    {
        broker.Dispose();
        directory.Dispose();
    }

    [Theory]
    [InlineData("RSA")]
    [InlineData("P-256")]
    [InlineData("P-384")]
    public void The_holder_of_the_key_answers_and_the_answer_proves_that_key(string type)
    {
        var holder = TestPartner.Create(type);
        var challenge = KeyPossession.Issue(broker, holder.RecipientKey, "nca", intent, TestClock.Start);

        var proof = KeyPossession.Answer(challenge.Challenge, holder.PrivateJwk, broker.PublicJwks());

        Assert.Equal(holder.RecipientKey.Thumbprint, KeyPossession.Verify(proof, broker, "nca", intent, TestClock.Start.AddMinutes(9)));
        Assert.Equal(intent, KeyPossession.IntentOf(proof));
        Assert.Equal(holder.RecipientKey.KeyId, challenge.SealedTo);
        Assert.Equal(TestClock.Start + KeyPossession.Lifetime, challenge.ExpiresAt);
    }

    [Fact]
    public void Another_key_cannot_open_the_challenge()
    {
        var challenge = KeyPossession.Issue(broker, partner.RecipientKey, "nca", intent, TestClock.Start);

        Assert.Throws<SealException>(() => KeyPossession.Answer(challenge.Challenge, TestPartner.Create(KeyKind.EC).PrivateJwk, broker.PublicJwks()));
    }

    [Fact]
    public void A_proof_is_refused_for_another_change_another_partner_or_after_it_expired()
    {
        var proof = KeyPossession.Answer(KeyPossession.Issue(broker, partner.RecipientKey, "nca", intent, TestClock.Start).Challenge,
            partner.PrivateJwk, broker.PublicJwks());

        var otherChange = Assert.Throws<SealException>(() =>
            KeyPossession.Verify(proof, broker, "nca", KeyPossession.RevokeIntent("nca", "some-key"), TestClock.Start));
        var otherPartner = Assert.Throws<SealException>(() => KeyPossession.Verify(proof, broker, "wmp", intent, TestClock.Start));
        var expired = Assert.Throws<SealException>(() => KeyPossession.Verify(proof, broker, "nca", intent, TestClock.Start + KeyPossession.Lifetime));

        Assert.Contains("another change", otherChange.Message, StringComparison.Ordinal);
        Assert.Contains("another partner", otherPartner.Message, StringComparison.Ordinal);
        Assert.Contains("expired", expired.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_changed_byte_or_a_signature_by_another_key_is_refused()
    {
        var proof = KeyPossession.Answer(KeyPossession.Issue(broker, partner.RecipientKey, "nca", intent, TestClock.Start).Challenge,
            partner.PrivateJwk, broker.PublicJwks());
        using var stranger = LocalKeyRing.OpenOrCreate(directory.Combine("stranger"), TestClock.Create());
        var forged = KeyPossession.Answer(KeyPossession.Issue(stranger, partner.RecipientKey, "nca", intent, TestClock.Start).Challenge,
            partner.PrivateJwk, stranger.PublicJwks());

        for (var part = 0; part < 3; part++)
        {
            Assert.Throws<SealException>(() => KeyPossession.Verify(Jose64.TamperPart(proof, part), broker, "nca", intent, TestClock.Start));
        }
        Assert.Throws<SealException>(() => KeyPossession.Verify(forged, broker, "nca", intent, TestClock.Start));
    }

    [Fact]
    public void A_package_is_neither_a_challenge_nor_a_proof()
    {
        var sealedPackage = new PackageSealer(broker).Seal(Encoding.UTF8.GetBytes($$"""{"intent":"{{intent}}","partner":"nca"}"""), partner.RecipientKey);
        var packageJws = partner.DecryptInner(sealedPackage);

        Assert.Throws<SealException>(() => KeyPossession.Answer(sealedPackage, partner.PrivateJwk, broker.PublicJwks()));
        var error = Assert.Throws<SealException>(() => KeyPossession.Verify(packageJws, broker, "nca", intent, TestClock.Start));
        Assert.Contains("toex-key-challenge+jws", error.Message, StringComparison.Ordinal);
        // And a challenge is never a package.
        var challenge = KeyPossession.Issue(broker, partner.RecipientKey, "nca", intent, TestClock.Start).Challenge;
        Assert.Throws<SealException>(() => PackageOpener.Open(challenge, partner.PrivateJwk, broker.PublicJwks()));
    }
}
