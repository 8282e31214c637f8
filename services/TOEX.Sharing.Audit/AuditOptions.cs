using TOEX.Sharing.ServiceDefaults;

namespace TOEX.Sharing.Audit;

public sealed class AuditOptions
{
    public const string Section = "Audit";

    /// <summary>The ledger store: <c>sqlite</c> (default) or <c>postgresql</c>.</summary>
    public string Database { get; set; } = Stores.Sqlite;

    /// <summary>The ledger store's connection string; default SQLite at <c>&lt;repo&gt;/.local/data/audit.db</c>.</summary>
    public string? ConnectionString { get; set; }

    /// <summary>PolicyDecision's public JWKS, to mark each recorded decision verified or not.</summary>
    public string? DecisionJwksPath { get; set; }

    /// <summary>The key ring that signs tree heads and IG officers' referral decisions; default <c>&lt;repo&gt;/.local/keys/audit</c>.</summary>
    public string? KeyRingPath { get; set; }

    /// <summary>
    /// Where the service writes its public JWKS at start, for the gateway to verify referral decisions with
    /// (<c>Gateway:AuditJwksPath</c>); default <c>&lt;repo&gt;/.local/keys/audit.jwks.json</c>.
    /// </summary>
    public string? PublicJwksPath { get; set; }

    /// <summary>The key of the subjects' blind indexes (the gateway's); default <c>&lt;repo&gt;/.local/keys/blind-index.key</c>.</summary>
    public string? BlindIndexKeyPath { get; set; }

    /// <summary>
    /// The folder of the console's referral-preview key pair (<c>audit-preview.private.jwk</c> and <c>audit-preview.jwks.json</c>,
    /// EC P-256): the gateway seals previews for its public half alone. Default <c>&lt;repo&gt;/.local/keys</c>; created on first
    /// use outside Production.
    /// </summary>
    public string? PreviewKeyPath { get; set; }

    /// <summary>The policy set (partners, agreements) for the agreement register; default the repository's <c>policies/</c>.</summary>
    public string? PoliciesPath { get; set; }

    /// <summary>How often the current tree head is signed and stored (when the tree has grown).</summary>
    public TimeSpan TreeHeadInterval { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>
    /// One active writer and standbys: each ledger queue is declared single-active-consumer (RabbitMQ
    /// <c>x-single-active-consumer</c> on the quorum queue), so the broker delivers it to one audit worker at a time and
    /// hands it to another the moment the active one's connection dies. Off by default (workers then compete, which
    /// the ledger also supports). Every worker on a broker must agree: a queue's arguments are fixed when it is made.
    /// </summary>
    public bool SingleActiveConsumer { get; set; }
}
