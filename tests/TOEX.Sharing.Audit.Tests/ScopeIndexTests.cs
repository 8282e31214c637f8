using MassTransit;
using TOEX.Sharing.Audit.Data;
using TOEX.Sharing.Testing;

namespace TOEX.Sharing.Audit.Tests;

/// <summary>
/// Every non-custodian read of the ledger is scoped by the packages the reader's organisation originated
/// (<c>LedgerScope</c>): the store keeps a partial index of submissions by originator for it, on a new store and on
/// one made before the index, so such a read does not scan the whole ledger.
/// </summary>
public abstract class ScopeIndexTests(StoreKind store) : IDisposable
{
    private readonly AuditFactory _factory = new(store);

    public void Dispose()
    {
        _factory.Dispose();
        GC.SuppressFinalize(this);
    }

    private Task<long> IndexesOfSubmissionsByOriginatorAsync(AuditFactory factory) => factory.Store.ScalarAsync(store == StoreKind.Sqlite
        ? $"""SELECT count(*) FROM sqlite_master WHERE type = 'index' AND name = '{AuditDb.SubmissionsByOriginator}' AND sql LIKE '%("Originator") WHERE "Type" = ''submission''%'"""
        : $"""SELECT count(*) FROM pg_indexes WHERE indexname = '{AuditDb.SubmissionsByOriginator}' AND indexdef LIKE '%("Originator") WHERE ("Type" = ''submission''::text)%'""");

    [Fact]
    public async Task A_new_store_has_the_index_of_submissions_by_originator()
    {
        _ = _factory.Server;

        Assert.Equal(1, await IndexesOfSubmissionsByOriginatorAsync(_factory));
    }

    [Fact]
    public async Task A_store_made_before_the_index_gets_it_at_start()
    {
        await _factory.DeliverAsync(Events.Submitted(NewId.NextGuid()));
        await _factory.TamperAsync($"""DROP INDEX "{AuditDb.SubmissionsByOriginator}";""");
        Assert.Equal(0, await IndexesOfSubmissionsByOriginatorAsync(_factory));

        using var restarted = new AuditFactory(_factory);
        _ = restarted.Server;

        Assert.Equal(1, await IndexesOfSubmissionsByOriginatorAsync(restarted));
    }
}

public sealed class ScopeIndexTestsOnSqlite() : ScopeIndexTests(StoreKind.Sqlite);

public sealed class ScopeIndexTestsOnPostgreSql() : ScopeIndexTests(StoreKind.PostgreSql);
