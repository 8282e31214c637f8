using TOEX.Sharing.Contracts;

namespace TOEX.Sharing.Sealing.Tests;

public sealed class DecisionSigningTests : IDisposable
{
    private readonly TempDirectory directory = new();
    private readonly LocalKeyRing policyKeys;

    public DecisionSigningTests()
    {
        policyKeys = LocalKeyRing.OpenOrCreate(directory.Combine("policy"), TestClock.Create());
    }

    private static SignedDecision Decision => new()
    {
        PackageId = Guid.Parse("6f1c0a52-1f0e-4f55-9d55-0d6f0c8e7c11"),
        ContentHash = "sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
        DecidedAt = TestClock.Start,
        PolicyVersion = "sha256:2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae",
        Decisions =
        [
            new RecipientDecision
            {
                Recipient = "bcc-childrens",
                Outcome = "permit",
                Agreement = "ISA-BCC-003",
                Reasons = [new Reason("PERMIT_AGREEMENT", "4.2", "Covered by ISA-BCC-003.")],
                Obligations = [new Obligation { Type = "sanitise", Fields = ["sourceEvaluation"] }],
            },
            new RecipientDecision { Recipient = "nca", Outcome = "deny", Reasons = [], Obligations = [] },
        ],
    };

    [Fact]
    public void Signed_decision_verifies_and_round_trips()
    {
        var jws = new DecisionSigner(policyKeys.Current).Sign(Decision);

        var verified = new DecisionVerifier(policyKeys.PublicJwks()).Verify(jws);

        Assert.Equal(ToexJson.Serialize(Decision), ToexJson.Serialize(verified));
        var header = Jose64.Header(jws);
        Assert.Equal("ES256", (string?)header["alg"]);
        Assert.Equal("toex-decision+jws", (string?)header["typ"]);
        Assert.Equal(policyKeys.Current.KeyId, (string?)header["kid"]);
        Assert.Equal(ToexJson.Serialize(Decision), Jose64.Decode(jws.Split('.')[1]));
    }

    [Fact]
    public void Decision_with_an_altered_outcome_is_rejected()
    {
        var parts = new DecisionSigner(policyKeys.Current).Sign(Decision).Split('.');
        parts[1] = Jose64.Encode(Jose64.Decode(parts[1]).Replace("\"deny\"", "\"permit\"", StringComparison.Ordinal));

        var error = Assert.Throws<SealException>(() => new DecisionVerifier(policyKeys.PublicJwks()).Verify(string.Join('.', parts)));

        Assert.Contains("signature does not verify", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Decision_with_a_tampered_signature_is_rejected()
    {
        var jws = Jose64.TamperPart(new DecisionSigner(policyKeys.Current).Sign(Decision), 2);

        Assert.Throws<SealException>(() => new DecisionVerifier(policyKeys.PublicJwks()).Verify(jws));
    }

    [Fact]
    public void Decision_signed_by_an_untrusted_key_is_rejected()
    {
        using var other = LocalKeyRing.OpenOrCreate(directory.Combine("other"), TestClock.Create());
        var jws = new DecisionSigner(other.Current).Sign(Decision);

        var error = Assert.Throws<SealException>(() => new DecisionVerifier(policyKeys.PublicJwks()).Verify(jws));

        Assert.Contains("not among the trusted keys", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Unsigned_decision_is_rejected()
    {
        var header = $$"""{"alg":"none","typ":"toex-decision+jws","kid":"{{policyKeys.Current.KeyId}}"}""";
        var jws = $"{Jose64.Encode(header)}.{Jose64.Encode(ToexJson.Serialize(Decision))}.";

        var error = Assert.Throws<SealException>(() => new DecisionVerifier(policyKeys.PublicJwks()).Verify(jws));

        Assert.Contains("alg 'none'", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Package_signature_is_not_accepted_as_a_decision()
    {
        var jws = CompactJws.Sign(ToexJson.SerializeToUtf8Bytes(Decision), policyKeys.Current, JoseNames.PackageType);

        var error = Assert.Throws<SealException>(() => new DecisionVerifier(policyKeys.PublicJwks()).Verify(jws));

        Assert.Contains("expected 'toex-decision+jws'", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Decision_signed_before_rotation_still_verifies()
    {
        var jws = new DecisionSigner(policyKeys.Current).Sign(Decision);

        policyKeys.Rotate();

        Assert.Equal(Decision.PackageId, new DecisionVerifier(policyKeys.PublicJwks()).Verify(jws).PackageId);
    }

    [Fact]
    public void Verifier_refuses_a_key_set_without_ES256_keys()
    {
        var jwks = TestPartner.Create(KeyKind.Rsa).Jwks;

        var error = Assert.Throws<SealException>(() => new DecisionVerifier(jwks));

        Assert.Contains("no ES256", error.Message, StringComparison.Ordinal);
    }

    public void Dispose()
    {
        policyKeys.Dispose();
        directory.Dispose();
    }
}
