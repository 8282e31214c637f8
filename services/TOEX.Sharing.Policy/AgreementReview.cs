namespace TOEX.Sharing.Policy;

/// <summary>What needs an information-governance officer's attention about an agreement on a given day.</summary>
public enum AgreementWarningKind
{
    /// <summary>The review-due date has passed.</summary>
    ReviewOverdue,

    /// <summary>The review falls due within <see cref="AgreementReview.WarningDays"/> days.</summary>
    ReviewDueSoon,

    /// <summary>The agreement's validity ended (valid-to has passed).</summary>
    Expired,

    /// <summary>The agreement expires (valid-to) within <see cref="AgreementReview.WarningDays"/> days.</summary>
    ExpiresSoon,
}

/// <summary>One warning about an agreement, with the date it concerns and a plain-English message.</summary>
public sealed record AgreementWarning(AgreementWarningKind Kind, DateOnly Date, string Message)
{
    /// <summary>The kind as it is written on the wire: kebab-case (<c>review-overdue</c>, …).</summary>
    public string Code => Kind switch
    {
        AgreementWarningKind.ReviewOverdue => "review-overdue",
        AgreementWarningKind.ReviewDueSoon => "review-due-soon",
        AgreementWarningKind.Expired => "expired",
        AgreementWarningKind.ExpiresSoon => "expires-soon",
        _ => throw new ArgumentOutOfRangeException(nameof(Kind)),
    };
}

/// <summary>
/// The agreement register's warnings (the IG console, <c>GET /api/v1/agreements</c> and <c>toex policy validate</c>):
/// an agreement overdue for review or expired, or whose review or expiry falls within the next 60 days.
/// Dates are inclusive UTC days, as in the policy set: an agreement valid to 31 March is still in force that day.
/// Only agreements that are in effect (not terminated) are warned about.
/// </summary>
public static class AgreementReview
{
    public const int WarningDays = 60;

    public static IReadOnlyList<AgreementWarning> Warnings(Agreement agreement, DateOnly today)
    {
        ArgumentNullException.ThrowIfNull(agreement);
        var warnings = new List<AgreementWarning>();
        if (agreement.Status == "terminated")
        {
            return warnings;
        }
        var horizon = today.AddDays(WarningDays);
        if (agreement.ValidTo < today)
        {
            warnings.Add(new(AgreementWarningKind.Expired, agreement.ValidTo, $"expired on {agreement.ValidTo:yyyy-MM-dd}"));
        }
        else if (agreement.ValidTo <= horizon)
        {
            warnings.Add(new(AgreementWarningKind.ExpiresSoon, agreement.ValidTo,
                $"expires on {agreement.ValidTo:yyyy-MM-dd}, in {agreement.ValidTo.DayNumber - today.DayNumber} days"));
        }
        if (agreement.ReviewDue < today)
        {
            warnings.Add(new(AgreementWarningKind.ReviewOverdue, agreement.ReviewDue,
                $"review overdue since {agreement.ReviewDue:yyyy-MM-dd} ({today.DayNumber - agreement.ReviewDue.DayNumber} days)"));
        }
        else if (agreement.ReviewDue <= horizon)
        {
            warnings.Add(new(AgreementWarningKind.ReviewDueSoon, agreement.ReviewDue,
                $"review due on {agreement.ReviewDue:yyyy-MM-dd}, in {agreement.ReviewDue.DayNumber - today.DayNumber} days"));
        }
        return warnings;
    }

    /// <summary>Whether the agreement is in force on <paramref name="today"/>: active and within its validity.</summary>
    public static bool InForce(Agreement agreement, DateOnly today)
    {
        ArgumentNullException.ThrowIfNull(agreement);
        return agreement.Status == "active" && agreement.ValidFrom <= today && today <= agreement.ValidTo;
    }
}
