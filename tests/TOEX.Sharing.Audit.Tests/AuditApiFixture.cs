using System.Globalization;
using TOEX.Sharing.Contracts;
using TOEX.Sharing.Sealing;
using TOEX.Sharing.Testing;

namespace TOEX.Sharing.Audit.Tests;

/// <summary>
/// The audit service with a known ledger of seven entries about two packages, delivered one after the
/// other through its consumers; the API tests only read it.
/// <code>
/// index type              at     package originator partner       agreement      outcome
/// 0     submission        10:00  A       rocu-wm
/// 1     decision          10:01  A                  bcc-childrens ISA-BCC-003    permit
/// 2     decision          10:01  A                  wmp           DSA-POLICE-001 deny
/// 3     release           10:02  A       rocu-wm    bcc-childrens ISA-BCC-003    permit
/// 4     submission        11:00  B       wmp
/// 5     decision          11:01  B                  rocu-wm       DSA-POLICE-001 refer
/// 6     decision-rejected 11:02  B
/// </code>
/// </summary>
public abstract class AuditApiFixture(StoreKind store) : IAsyncLifetime
{
    public const string PackageA = "5b0e6f3c-2d41-4c8a-9e7f-0a1b2c3d4e01";
    public const string PackageB = "5b0e6f3c-2d41-4c8a-9e7f-0a1b2c3d4e02";

    public AuditFactory Factory { get; } = new(store);

    /// <summary>The service's clock: after every fixture entry, so the searches it records (consultations) come after them.</summary>
    public const string Now = "2026-12-01T09:00:00Z";

    public async Task InitializeAsync()
    {
        Factory.Settings["Clock:StartsAt"] = Now;
        var a = Guid.Parse(PackageA);
        var b = Guid.Parse(PackageB);
        var signer = new DecisionSigner(Factory.DecisionKeys.Current);

        await Factory.DeliverAsync(Events.Submitted(a, "rocu-wm", At("10:00"), ["bcc-childrens", "wmp"]));
        await Factory.DeliverAsync(new SharingDecided
        {
            PackageId = a,
            DecisionJws = signer.Sign(Events.Decision(a, At("10:01"), Events.Permit, Events.Deny)),
        });
        await Factory.DeliverAsync(Events.Released(a, At("10:02")));
        await Factory.DeliverAsync(Events.Submitted(b, "wmp", At("11:00"), ["rocu-wm"]));
        await Factory.DeliverAsync(new SharingDecided
        {
            PackageId = b,
            DecisionJws = signer.Sign(Events.Decision(b, At("11:01"), Events.Refer("rocu-wm", "DSA-POLICE-001"))),
        });
        await Factory.DeliverAsync(Events.Rejected(b, At("11:02")));

        Assert.Equal(7, (await Factory.LedgerAsync()).Count);
    }

    public Task DisposeAsync()
    {
        Factory.Dispose();
        return Task.CompletedTask;
    }

    private static DateTimeOffset At(string time) => DateTimeOffset.Parse($"2026-11-25T{time}:00Z", CultureInfo.InvariantCulture);
}

public sealed class SqliteAuditApi() : AuditApiFixture(StoreKind.Sqlite);

public sealed class PostgreSqlAuditApi() : AuditApiFixture(StoreKind.PostgreSql);
