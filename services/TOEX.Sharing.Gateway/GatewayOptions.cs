using System.ComponentModel.DataAnnotations;
using TOEX.Sharing.ServiceDefaults;

namespace TOEX.Sharing.Gateway;

public sealed class GatewayOptions
{
    public const string Section = "Gateway";

    /// <summary>How long a submission waits for the broker to confirm its publish before answering 503.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "00:01:00", ErrorMessage = "Gateway:PublishTimeout must be between 1 s and 1 min.")]
    public TimeSpan PublishTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>What a 503 tells the caller to wait, in seconds.</summary>
    [Range(1, 3600, ErrorMessage = "Gateway:RetryAfterSeconds must be between 1 and 3600.")]
    public int RetryAfterSeconds { get; set; } = 30;

    /// <summary>The broker's signing key ring; default <c>&lt;repo&gt;/.local/keys/broker</c>.</summary>
    public string? KeyRingPath { get; set; }

    /// <summary>
    /// With the <c>local</c> key custody (development only), the folder of the key that wraps each package body's data key;
    /// default <c>&lt;repo&gt;/.local/keys/data-at-rest</c>. Replicas of the gateway share it (and its store).
    /// </summary>
    public string? DataAtRestKeyPath { get; set; }

    /// <summary>The partner registry's public keys: one <c>PARTNER.jwks.json</c> per partner.</summary>
    public string? PartnerKeysPath { get; set; }

    /// <summary>PolicyDecision's public JWKS: the only keys a decision may be signed with.</summary>
    public string? DecisionJwksPath { get; set; }

    /// <summary>The audit service's public JWKS (<c>Audit:PublicJwksPath</c>): the only keys an IG officer's referral decision may be signed with.</summary>
    public string? AuditJwksPath { get; set; }

    /// <summary>The policy set used for simulations; default the repository's <c>policies/</c>.</summary>
    public string? PoliciesPath { get; set; }

    /// <summary>The store: <c>sqlite</c> (default) or <c>postgresql</c>.</summary>
    public string Database { get; set; } = Stores.Sqlite;

    /// <summary>The store's connection string; default SQLite at <c>&lt;repo&gt;/.local/data/gateway.db</c>.</summary>
    public string? ConnectionString { get; set; }

    /// <summary>
    /// Fail closed: how long the gateway's oldest event may wait for the audit worker's confirmation that it is in
    /// the ledger before releases are held (released automatically once the ledger catches up).
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:01", "1.00:00:00", ErrorMessage = "Gateway:AuditLagLimit must be between 1 s and 1 day.")]
    public TimeSpan AuditLagLimit { get; set; } = TimeSpan.FromMinutes(3);

    /// <summary>
    /// How long an event sent to the audit ledger may wait for its confirmation before the outbox publishes it again
    /// (same message id: the ledger records it once and confirms it again). Each further re-send of the same event waits
    /// twice as long, up to <see cref="AuditResendMaxInterval"/>. Keep it under <see cref="AuditLagLimit"/>, so that an
    /// event the broker lost is sent again before releases are held for it.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00.100", "1.00:00:00", ErrorMessage = "Gateway:AuditResendInterval must be between 100 ms and 1 day.")]
    public TimeSpan AuditResendInterval { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>The longest wait between two re-sends of one unconfirmed event (the back-off's cap).</summary>
    [Range(typeof(TimeSpan), "00:00:00.100", "1.00:00:00", ErrorMessage = "Gateway:AuditResendMaxInterval must be between 100 ms and 1 day.")]
    public TimeSpan AuditResendMaxInterval { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>
    /// How long a published submission may stay undecided before the gateway asks PolicyDecision for its decision again
    /// (the submission or its decision was lost on the broker: a queue purged, a node replaced). The request is the same
    /// <c>PackageSubmitted</c> under the same message id, sent to PolicyDecision alone; each further request for the same
    /// package waits twice as long, up to <see cref="DecisionResendMaxInterval"/>.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00.100", "1.00:00:00", ErrorMessage = "Gateway:DecisionResendInterval must be between 100 ms and 1 day.")]
    public TimeSpan DecisionResendInterval { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>
    /// How long a batch of decisions waits after its first for more (up to 100) before it is acted on: a decision alone is
    /// released at once, a burst together, its releases in one commit.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00.001", "00:00:10", ErrorMessage = "Gateway:DecisionBatchWindow must be between 1 ms and 10 s.")]
    public TimeSpan DecisionBatchWindow { get; set; } = TimeSpan.FromMilliseconds(5);

    /// <summary>The longest wait between two requests for the decision of one undecided submission (the back-off's cap).</summary>
    [Range(typeof(TimeSpan), "00:00:00.100", "1.00:00:00", ErrorMessage = "Gateway:DecisionResendMaxInterval must be between 100 ms and 1 day.")]
    public TimeSpan DecisionResendMaxInterval { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>The key of the subjects' blind indexes (shared with the audit service); default <c>&lt;repo&gt;/.local/keys/blind-index.key</c>.</summary>
    public string? BlindIndexKeyPath { get; set; }

    [Range(1, 1000, ErrorMessage = "Gateway:FeedPageMax must be between 1 and 1000.")]
    public int FeedPageMax { get; set; } = 500;

    /// <summary>
    /// How long a recipient bound by the acknowledge obligation has, from release, before its package shows
    /// as overdue and an <c>AcknowledgementOverdue</c> event is raised.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:01", "90.00:00:00", ErrorMessage = "Gateway:AcknowledgementDeadline must be between 1 s and 90 days.")]
    public TimeSpan AcknowledgementDeadline { get; set; } = TimeSpan.FromHours(48);
}

/// <summary>Push delivery (Standard Webhooks): the retry schedule, the per-attempt timeout and the signing key.</summary>
public sealed class WebhookOptions : IValidatableObject
{
    public const string Section = "Gateway:Webhooks";

    /// <summary>The wait after the first failed attempt; each further failure doubles it, up to <see cref="MaxRetryDelay"/>.</summary>
    [Range(typeof(TimeSpan), "00:00:00.010", "01:00:00", ErrorMessage = "Gateway:Webhooks:FirstRetryDelay must be between 10 ms and 1 h.")]
    public TimeSpan FirstRetryDelay { get; set; } = TimeSpan.FromSeconds(15);

    [Range(typeof(TimeSpan), "00:00:00.010", "1.00:00:00", ErrorMessage = "Gateway:Webhooks:MaxRetryDelay must be between 10 ms and 1 day.")]
    public TimeSpan MaxRetryDelay { get; set; } = TimeSpan.FromHours(2);

    /// <summary>No attempt is made later than this after the first: the push is dead-lettered instead.</summary>
    [Range(typeof(TimeSpan), "00:00:00.010", "30.00:00:00", ErrorMessage = "Gateway:Webhooks:Horizon must be between 10 ms and 30 days.")]
    public TimeSpan Horizon { get; set; } = TimeSpan.FromHours(24);

    /// <summary>Each wait is multiplied by a random factor in [1 - Jitter, 1 + Jitter].</summary>
    [Range(0.0, 0.5, ErrorMessage = "Gateway:Webhooks:Jitter must be between 0 and 0.5.")]
    public double Jitter { get; set; } = 0.2;

    /// <summary>How long one attempt may take, connection and answer included.</summary>
    [Range(typeof(TimeSpan), "00:00:00.100", "00:02:00", ErrorMessage = "Gateway:Webhooks:AttemptTimeout must be between 100 ms and 2 min.")]
    public TimeSpan AttemptTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>The broker's Ed25519 webhook signing key (a directory); default <c>&lt;repo&gt;/.local/keys/webhook</c>.</summary>
    public string? KeyPath { get; set; }

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (FirstRetryDelay > MaxRetryDelay)
        {
            yield return new ValidationResult("Gateway:Webhooks:FirstRetryDelay must not exceed Gateway:Webhooks:MaxRetryDelay.");
        }
    }
}
