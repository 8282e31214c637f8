using TOEX.Sharing.Audit.Data;

namespace TOEX.Sharing.Audit.Ledger;

/// <summary>
/// What one event becomes in the ledger: its entries, and the query rows kept beside them (written in the same transaction,
/// only when at least one of its entries is new: see <see cref="LedgerWriter.AppendAsync"/>).
/// </summary>
public sealed record LedgerAppend(IReadOnlyList<LedgerRecord> Drafts, Func<AuditDb, CancellationToken, Task>? Also = null);
