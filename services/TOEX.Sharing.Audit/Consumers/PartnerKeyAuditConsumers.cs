using MassTransit;
using TOEX.Sharing.Audit.Data;
using TOEX.Sharing.Audit.Ledger;
using TOEX.Sharing.Contracts;

namespace TOEX.Sharing.Audit.Consumers;

/// <summary>A partner's new encryption key: which key, its lifetime, who registered it and on what authority.</summary>
public sealed class PartnerKeyRegisteredAuditConsumer(AuditDb db, LedgerWriter ledger) : IConsumer<PartnerKeyRegistered>
{
    public Task Consume(ConsumeContext<PartnerKeyRegistered> context) => ledger.AppendEventAsync(db, context);

    internal static LedgerAppend Entries(PartnerKeyRegistered m, Guid id) => PartnerKeyEntries.For(m, id, "partner-key-registered", m.At, m.Partner,
        m.RegisteredBy, m.Authority, m.Reason, m.ProvedWith, new()
        {
            ["keyId"] = m.KeyId,
            ["thumbprint"] = m.Thumbprint,
            ["keyType"] = m.KeyType,
            ["notBefore"] = m.NotBefore,
            ["expires"] = m.Expires,
            ["authority"] = m.Authority,
            ["provedWith"] = m.ProvedWith,
        });
}

/// <summary>A partner's encryption key revoked: nothing is sealed to it again.</summary>
public sealed class PartnerKeyRevokedAuditConsumer(AuditDb db, LedgerWriter ledger) : IConsumer<PartnerKeyRevoked>
{
    public Task Consume(ConsumeContext<PartnerKeyRevoked> context) => ledger.AppendEventAsync(db, context);

    internal static LedgerAppend Entries(PartnerKeyRevoked m, Guid id) => PartnerKeyEntries.For(m, id, "partner-key-revoked", m.At, m.Partner,
        m.RevokedBy, m.Authority, m.Reason, m.ProvedWith, new()
        {
            ["keyId"] = m.KeyId,
            ["thumbprint"] = m.Thumbprint,
            ["authority"] = m.Authority,
            ["provedWith"] = m.ProvedWith,
        });
}

internal static class PartnerKeyEntries
{
    /// <summary>
    /// One entry about a partner's key set: no package and no disclosure (no recipients), the partner named. An operator
    /// is recorded as <c>operator ORG/SUBJECT</c> with its reason; a partner with the key whose possession it proved.
    /// </summary>
    public static LedgerAppend For<T>(T message, Guid id, string type, DateTimeOffset at, string partner, string by, string authority,
        string? reason, string? provedWith, Dictionary<string, object?> detail) where T : class => new([new LedgerRecord
        {
            EventKey = EventKeys.Of(typeof(T), id),
            EventDigest = EventKeys.Digest(message, typeof(T)),
            Type = type,
            At = at,
            Actor = authority == PartnerKeyAuthority.Operator ? $"operator {by}" : by,
            Justification = reason ?? $"the partner proved possession of its current key {provedWith}",
            Recipients = [],
            Partner = partner,
            Detail = detail,
        }]);
}
