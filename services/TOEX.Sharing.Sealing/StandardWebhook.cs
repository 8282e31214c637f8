using System.Buffers.Text;
using System.Globalization;
using System.Text;
using NSec.Cryptography;

namespace TOEX.Sharing.Sealing;

/// <summary>
/// Standard Webhooks (standardwebhooks.com) with the asymmetric <c>v1a</c> scheme: the signed content is
/// <c>webhook-id.webhook-timestamp.body</c>; <c>webhook-signature</c> holds one or more space-separated
/// <c>v1a,BASE64</c> Ed25519 signatures. What a receiver runs to check a delivery came from the broker.
/// </summary>
public static class StandardWebhook
{
    public const string IdHeader = "webhook-id";
    public const string TimestampHeader = "webhook-timestamp";
    public const string SignatureHeader = "webhook-signature";

    /// <summary>How far a timestamp may be from the receiver's clock (the specification's suggestion).</summary>
    public static readonly TimeSpan DefaultTolerance = TimeSpan.FromMinutes(5);

    public static byte[] SignedContent(string webhookId, long timestamp, string body) =>
        Encoding.UTF8.GetBytes($"{webhookId}.{timestamp.ToString(CultureInfo.InvariantCulture)}.{body}");

    /// <summary>
    /// Verifies a delivery against the Ed25519 keys of <paramref name="publicJwks"/>; <paramref name="now"/> null
    /// skips the timestamp check (a replayed delivery is then caught by the id alone).
    /// </summary>
    /// <exception cref="SealException">The headers are missing or malformed, the timestamp is outside the
    /// tolerance, or no signature verifies.</exception>
    public static void Verify(string? webhookId, string? timestamp, string? signature, string body, string publicJwks,
        DateTimeOffset? now = null, TimeSpan? tolerance = null)
    {
        if (string.IsNullOrEmpty(webhookId) || string.IsNullOrEmpty(timestamp) || string.IsNullOrEmpty(signature))
        {
            throw new SealException($"A webhook needs the {IdHeader}, {TimestampHeader} and {SignatureHeader} headers.");
        }
        if (!long.TryParse(timestamp, NumberStyles.None, CultureInfo.InvariantCulture, out var seconds))
        {
            throw new SealException($"{TimestampHeader} is not a whole number of seconds.");
        }
        // A timestamp past the calendar's end (year 9999) is far from any clock, not an ArgumentOutOfRangeException (found by fuzzing).
        if (now is { } instant && (seconds > DateTimeOffset.MaxValue.ToUnixTimeSeconds()
            || (instant - DateTimeOffset.FromUnixTimeSeconds(seconds)).Duration() > (tolerance ?? DefaultTolerance)))
        {
            throw new SealException($"{TimestampHeader} is too far from the receiver's clock.");
        }

        var keys = PublicKeys(publicJwks);
        var content = SignedContent(webhookId, seconds, body);
        foreach (var part in signature.Split(' ', StringSplitOptions.RemoveEmptyEntries))
        {
            if (!part.StartsWith("v1a,", StringComparison.Ordinal))
            {
                continue;
            }
            byte[] bytes;
            try
            {
                bytes = Convert.FromBase64String(part[4..]);
            }
            catch (FormatException)
            {
                continue;
            }
            if (keys.Any(key => SignatureAlgorithm.Ed25519.Verify(key, content, bytes)))
            {
                return;
            }
        }
        throw new SealException("No v1a signature of the webhook verifies with the broker's webhook keys.");
    }

    private static List<PublicKey> PublicKeys(string publicJwks)
    {
        var keys = new List<PublicKey>();
        foreach (var jwk in JsonWebKeys.ParseKeySet(publicJwks, "The webhook JWKS"))
        {
            if (JsonWebKeys.HasPrivateMembers(jwk))
            {
                throw new SealException("The webhook JWKS holds private key material.");
            }
            if (JsonWebKeys.GetString(jwk, "kty", "webhook key") == "OKP" && JsonWebKeys.GetString(jwk, "crv", "webhook key") == "Ed25519"
                && JsonWebKeys.GetString(jwk, "x", "webhook key") is { } x
                && PublicKey.TryImport(SignatureAlgorithm.Ed25519, Decode(x), KeyBlobFormat.RawPublicKey, out var key))
            {
                keys.Add(key!);
            }
        }
        return keys.Count > 0 ? keys : throw new SealException("The webhook JWKS holds no Ed25519 key.");
    }

    private static byte[] Decode(string x)
    {
        try
        {
            return Base64Url.DecodeFromChars(x);
        }
        catch (FormatException)
        {
            // Found by fuzzing: a malformed key set is refused, not thrown through.
            throw new SealException("The webhook JWKS holds an Ed25519 key whose 'x' is not base64url.");
        }
    }
}
