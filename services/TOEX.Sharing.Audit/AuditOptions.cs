namespace TOEX.Sharing.Audit;

public sealed class AuditOptions
{
    public const string Section = "Audit";

    /// <summary>The ledger store; default SQLite at <c>&lt;repo&gt;/.local/data/audit.db</c>.</summary>
    public string? ConnectionString { get; set; }

    /// <summary>PolicyDecision's public JWKS, to mark each recorded decision verified or not.</summary>
    public string? DecisionJwksPath { get; set; }
}
