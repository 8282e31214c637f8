namespace TOEX.Sharing.Sealing;

/// <summary>The JOSE values TOEX produces and accepts. Partners opening packages with their own JOSE library check these.</summary>
public static class JoseNames
{
    /// <summary>The only signature algorithm: ECDSA P-256 with SHA-256.</summary>
    public const string SignatureAlgorithm = "ES256";

    /// <summary>The webhook signature algorithm (Standard Webhooks <c>v1a</c>): Ed25519.</summary>
    public const string WebhookSignatureAlgorithm = "EdDSA";

    /// <summary>Key management for an EC (P-256 or P-384) recipient key.</summary>
    public const string EcKeyManagement = "ECDH-ES+A256KW";

    /// <summary>Key management for an RSA recipient key.</summary>
    public const string RsaKeyManagement = "RSA-OAEP-256";

    /// <summary>Content encryption of every package.</summary>
    public const string ContentEncryption = "A256GCM";

    /// <summary>
    /// <c>typ</c> of the broker's inner JWS over a package. Not a JWT: the payload is the package JSON,
    /// not a claims set, so the type says what it is (RFC 7515 §4.1.9, "application/" omitted).
    /// </summary>
    public const string PackageType = "toex-package+jws";

    /// <summary><c>typ</c> of a decision signed by PolicyDecision; a package signature can never pass as a decision and vice versa.</summary>
    public const string DecisionType = "toex-decision+jws";

    /// <summary><c>typ</c> of an IG officer's referral decision signed by the audit service.</summary>
    public const string ReferralDecisionType = "toex-referral-decision+jws";

    /// <summary>
    /// <c>typ</c> of a key-possession challenge the gateway seals to a partner's current key (<see cref="KeyPossession"/>):
    /// never a package, so a package signature can never pass as a proof and vice versa.
    /// </summary>
    public const string KeyChallengeType = "toex-key-challenge+jws";

    /// <summary><c>cty</c> of the outer JWE: its plaintext is a nested compact JWS (RFC 7519 §5.2).</summary>
    public const string NestedContentType = "JWT";

    /// <summary>
    /// Protected header of the inner JWS: the RFC 7638 SHA-256 thumbprint of the recipient's
    /// encryption key. It binds the broker's signature to one recipient, so a partner cannot
    /// re-encrypt a package it received to another partner and pass it off as sent by the broker.
    /// </summary>
    public const string RecipientThumbprintHeader = "rcpt_jkt";
}
