using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Base64Url = System.Buffers.Text.Base64Url;

namespace TOEX.Sharing.Sealing;

/// <summary>A challenge sealed to a partner's current key: the compact JWE, the key it is sealed to, and until when it may be answered.</summary>
public sealed record KeyChallenge(string Challenge, string SealedTo, DateTimeOffset ExpiresAt);

/// <summary>
/// Proof that a partner holds the private half of its current encryption key, for a change it asks to make to its own
/// keys. Encryption keys cannot sign, so the proof is a decryption: the gateway signs a statement of the change asked
/// for (the <em>intent</em>: the partner, what is to be registered or revoked, a random nonce, an expiry ten minutes
/// on) with its package-signing key, as a JWS of type <see cref="JoseNames.KeyChallengeType"/> bound to the key by
/// <c>rcpt_jkt</c>, and seals it to the partner's current key exactly as it seals a copy. Only the holder of that
/// private key can recover the JWS; returning it is the proof. The gateway checks its own signature, the type, the
/// partner, the intent (a proof for one change is worth nothing for another) and the expiry, and that the key it was
/// sealed to is still valid. Nothing is stored between the two requests, so any gateway instance can check a proof
/// another issued. A proof may be presented again within its ten minutes, but only for the same change, which by then
/// is made (a second registration of the key, or revocation of a revoked key, is refused).
/// </summary>
public static class KeyPossession
{
    /// <summary>How long a challenge may be answered.</summary>
    public static readonly TimeSpan Lifetime = TimeSpan.FromMinutes(10);

    private const string What = "proof";

    /// <summary>The intent of registering the key <paramref name="thumbprint"/> for <paramref name="partner"/> with this lifetime.</summary>
    public static string RegisterIntent(string partner, string thumbprint, DateTimeOffset? notBefore, DateTimeOffset? expires) =>
        $"register key {thumbprint} for {partner}, valid from {(notBefore is { } from ? RecipientKeySet.Instant(from) : "registration")}"
        + $" until {(expires is { } until ? RecipientKeySet.Instant(until) : "revoked")}";

    /// <summary>The intent of revoking the key <paramref name="keyId"/> of <paramref name="partner"/>.</summary>
    public static string RevokeIntent(string partner, string keyId) => $"revoke key {keyId} of {partner}";

    /// <summary>The gateway's challenge for <paramref name="intent"/>, sealed to <paramref name="current"/>.</summary>
    public static KeyChallenge Issue(IKeyRing ring, RecipientKey current, string partner, string intent, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(ring);
        ArgumentNullException.ThrowIfNull(current);
        var expires = now + Lifetime;
        var statement = new JsonObject
        {
            ["partner"] = partner,
            ["intent"] = intent,
            ["sealedTo"] = current.Thumbprint,
            ["nonce"] = Base64Url.EncodeToString(RandomNumberGenerator.GetBytes(32)),
            ["iat"] = now.ToUnixTimeSeconds(),
            ["exp"] = expires.ToUnixTimeSeconds(),
        };
        var jws = CompactJws.Sign(Encoding.UTF8.GetBytes(statement.ToJsonString()), ring.Current, JoseNames.KeyChallengeType, current.Thumbprint);
        return new KeyChallenge(PackageSealer.Encrypt(jws, current), current.KeyId, DateTimeOffset.FromUnixTimeSeconds(expires.ToUnixTimeSeconds()));
    }

    /// <summary>
    /// Checks a proof for <paramref name="intent"/> of <paramref name="partner"/> at <paramref name="now"/>; returns the
    /// thumbprint of the key it proves possession of (the caller checks that key is still a valid key of the partner).
    /// </summary>
    /// <exception cref="SealException">Why the proof is refused, in a sentence a partner can act on.</exception>
    public static string Verify(string proof, IKeyRing ring, string partner, string intent, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(proof);
        ArgumentNullException.ThrowIfNull(ring);
        var (payload, header, _) = CompactJws.Verify(proof.Trim(), new TrustedKeys(ring.PublicJwks(), "The broker's key set"), JoseNames.KeyChallengeType, What);
        JsonObject statement;
        try
        {
            statement = JsonNode.Parse(payload) as JsonObject ?? throw new SealException("The proof's statement is not a JSON object.");
        }
        catch (JsonException)
        {
            throw new SealException("The proof's statement is not JSON.");
        }

        if (Text(statement, "partner") != partner)
        {
            throw new SealException("The proof was issued to another partner.");
        }

        if (Text(statement, "intent") != intent)
        {
            throw new SealException($"The proof was issued for another change ('{Text(statement, "intent")}'); ask for a challenge for this one.");
        }

        var expires = statement["exp"] is JsonValue value && value.TryGetValue<long>(out var seconds) ? DateTimeOffset.FromUnixTimeSeconds(seconds) : (DateTimeOffset?)null;
        if (expires is null || now >= expires)
        {
            throw new SealException($"The proof expired{(expires is { } at ? " at " + RecipientKeySet.Instant(at) : "")}; ask for a new challenge.");
        }

        var sealedTo = Text(statement, "sealedTo");
        if (sealedTo is null || header.Get(JoseNames.RecipientThumbprintHeader) != sealedTo)
        {
            throw new SealException("The proof does not name the key it was sealed to.");
        }

        return sealedTo;
    }

    /// <summary>
    /// The partner's side: opens <paramref name="challenge"/> with its private key, checks it is a challenge signed by a key
    /// of <paramref name="brokerJwks"/> for this key, and returns the proof (the inner JWS) to send back.
    /// </summary>
    /// <exception cref="SealException">Not for this key, altered, not signed by the broker, or not a challenge.</exception>
    public static string Answer(string challenge, string privateJwk, string brokerJwks) =>
        PackageOpener.OpenNested(challenge, privateJwk, brokerJwks, JoseNames.KeyChallengeType, "key challenge", "sealed key challenge").Jws;

    /// <summary>What the proof says it allows (its intent), for a partner to read before it answers.</summary>
    public static string IntentOf(string proof)
    {
        var parts = (proof ?? throw new ArgumentNullException(nameof(proof))).Split('.');
        try
        {
            return parts.Length == 3 && JsonNode.Parse(Base64Url.DecodeFromChars(parts[1])) is JsonObject statement && Text(statement, "intent") is { } intent
                ? intent
                : throw new SealException("The proof is not a key challenge.");
        }
        catch (Exception exception) when (exception is JsonException or FormatException)
        {
            throw new SealException("The proof is not a key challenge.");
        }
    }

    private static string? Text(JsonObject statement, string member) =>
        statement[member] is JsonValue value && value.TryGetValue<string>(out var text) ? text : null;
}
