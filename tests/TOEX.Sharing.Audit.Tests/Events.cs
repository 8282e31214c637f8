using MassTransit;
using System.Globalization;
using TOEX.Sharing.Contracts;

namespace TOEX.Sharing.Audit.Tests;

/// <summary>The events the audit worker consumes, as the gateway and PolicyDecision publish them.</summary>
public static class Events
{
    public static readonly DateTimeOffset At = DateTimeOffset.Parse("2026-11-25T12:00:00Z", CultureInfo.InvariantCulture);

    /// <summary>bcc-childrens permitted under ISA-BCC-003 (DOMAIN.md's example).</summary>
    public static readonly RecipientDecision Permit = new()
    {
        Recipient = "bcc-childrens",
        Outcome = "permit",
        Agreement = "ISA-BCC-003",
        Reasons = [],
        Obligations =
        [
            new Obligation { Type = "sanitise", Fields = ["sourceEvaluation", "sourceDetails"] },
            new Obligation { Type = "acknowledge" },
            new Obligation { Type = "retain-until", Date = new DateOnly(2027, 11, 25) },
        ],
    };

    /// <summary>wmp denied under DSA-POLICE-001 (DOMAIN.md's example).</summary>
    public static readonly RecipientDecision Deny = new()
    {
        Recipient = "wmp",
        Outcome = "deny",
        Agreement = "DSA-POLICE-001",
        Reasons =
        [
            new Reason("PURPOSE_NOT_PERMITTED", "DSA-POLICE-001 §3.1", "The agreement does not permit the purpose 'safeguarding-children'."),
            new Reason("GATEWAY_NOT_PERMITTED", "DSA-POLICE-001 §3.3", "The agreement does not permit the statutory gateway 'CA2004:s11'."),
        ],
        Obligations = [],
    };

    public static RecipientDecision Refer(string recipient, string agreement) => new()
    {
        Recipient = recipient,
        Outcome = "refer",
        Agreement = agreement,
        Reasons = [new Reason("REFER_SPECIAL_CATEGORY", $"{agreement} §4.2", "Special category data needs IG approval.")],
        Obligations = [],
    };

    public static PackageSubmitted Submitted(Guid packageId, params DateOnly?[] datesOfBirth) =>
        Submitted(packageId, "rocu-wm", At, ["bcc-childrens", "wmp"], datesOfBirth);

    public static PackageSubmitted Submitted(Guid packageId, string originator, DateTimeOffset at, IReadOnlyList<string> recipients,
        IReadOnlyList<DateOnly?>? datesOfBirth = null) => new()
    {
        PackageId = packageId,
        Reference = "ROCUWM-2026-000123",
        Originator = originator,
        SubmittedBy = $"{originator}/analyst-4471",
        SubmittedAt = at,
        ContentHash = "sha256:5e1f",
        Facts = new PackageFacts
        {
            Originator = originator,
            Classification = "OFFICIAL-SENSITIVE",
            HandlingCode = "C",
            HandlingConditions = ["Do not disclose to the subject"],
            SourceEvaluation = "2",
            IntelligenceAssessment = "B",
            Purpose = "safeguarding-children",
            LawfulBasis = "DPA2018-Part3:s35(2)(b)",
            StatutoryGateways = ["CA2004:s11"],
            DataCategories = ["personal", "children", "criminal-offence"],
            SubjectCount = (datesOfBirth ?? []).Count,
            MinorUntil = PackageFacts.MinorUntilOf(datesOfBirth ?? []),
            Recipients = recipients,
        },
    };

    /// <summary>bcc-childrens permitted, wmp denied, a minute after <see cref="At"/>.</summary>
    public static SignedDecision Decision(Guid packageId) => Decision(packageId, At.AddMinutes(1), Permit, Deny);

    public static SignedDecision Decision(Guid packageId, DateTimeOffset decidedAt, params RecipientDecision[] decisions) => new()
    {
        PackageId = packageId,
        ContentHash = "sha256:5e1f",
        DecidedAt = decidedAt,
        PolicyVersion = "sha256:c067",
        Decisions = decisions,
    };

    /// <summary>A copy released to bcc-childrens under ISA-BCC-003, two minutes after <see cref="At"/>.</summary>
    public static PackageReleased Released(Guid packageId) => Released(packageId, At.AddMinutes(2));

    public static PackageReleased Released(Guid packageId, DateTimeOffset at) => new()
    {
        PackageId = packageId,
        Reference = "ROCUWM-2026-000123",
        Originator = "rocu-wm",
        Recipient = "bcc-childrens",
        Kind = "package",
        Agreement = "ISA-BCC-003",
        Purpose = "safeguarding-children",
        LawfulBasis = "DPA2018-Part3:s35(2)(b)",
        PolicyVersion = "sha256:c067",
        AuthorisedBy = "policy-decision",
        WithheldFields = ["sourceEvaluation", "sourceDetails"],
        FeedCursor = 7,
        SealedSha256 = "9f86d081884c7d65",
        ReleasedAt = at,
    };

    /// <summary>The gateway refusing a decision, three minutes after <see cref="At"/>.</summary>
    public static DecisionRejected Rejected(Guid packageId) => Rejected(packageId, At.AddMinutes(3));

    public static DecisionRejected Rejected(Guid packageId, DateTimeOffset at) => new()
    {
        PackageId = packageId,
        Why = "The decision's content hash does not match the package.",
        RejectedAt = at,
    };

    /// <summary>bcc-childrens' feed read of two packages (one of rocu-wm, one of wmp).</summary>
    public static ConsultationRecorded Consultation(Guid? first = null, Guid? second = null) => new()
    {
        Kind = "feed-read",
        At = At,
        Actor = "bcc-childrens/case-worker-7",
        Organisation = "bcc-childrens",
        Justification = "collecting releases",
        Items =
        [
            new ConsultedItem { PackageId = first ?? NewId.NextGuid(), Originator = "rocu-wm", Recipient = "bcc-childrens", Kind = "package", Cursor = 11 },
            new ConsultedItem { PackageId = second ?? NewId.NextGuid(), Originator = "wmp", Recipient = "bcc-childrens", Kind = "package", Cursor = 12 },
        ],
        Request = new Dictionary<string, string> { ["after"] = "10", ["limit"] = "2", ["next"] = "12" },
    };
}
