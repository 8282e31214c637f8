using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace TOEX.Sharing.ServiceDefaults;

/// <summary>
/// The project's own activity source and meter (besides MassTransit's, ASP.NET Core's and HttpClient's), and its
/// instruments. Tags carry vocabulary only (outcomes, reason codes, kinds, partner ids): never a subject, a
/// reference or any other personal data.
/// </summary>
public static class ToexTelemetry
{
    public const string ActivitySourceName = "TOEX.Sharing";
    public const string MeterName = "TOEX.Sharing";

    public static readonly ActivitySource Source = new(ActivitySourceName);
    public static readonly Meter Meter = new(MeterName);

    /// <summary>Gateway: packages accepted (202), by <c>result</c> (<c>accepted</c>, <c>repeated</c>, <c>broker-unavailable</c>, <c>conflict</c>).</summary>
    public static readonly Counter<long> Submissions = Meter.CreateCounter<long>("toex.submissions", "{package}",
        "Packages submitted to the gateway, by result.");

    /// <summary>PolicyDecision: one per recipient decided, by <c>outcome</c> and the first <c>reason</c> code (<c>none</c> when none).</summary>
    public static readonly Counter<long> Decisions = Meter.CreateCounter<long>("toex.decisions", "{decision}",
        "Recipient decisions taken, by outcome and first reason code.");

    /// <summary>PolicyDecision: one per reason given, by <c>outcome</c> and <c>reason</c> code.</summary>
    public static readonly Counter<long> DecisionReasons = Meter.CreateCounter<long>("toex.decision.reasons", "{reason}",
        "Reasons given in recipient decisions, by outcome and reason code.");

    /// <summary>PolicyDecision: how long deciding and signing one package took.</summary>
    public static readonly Histogram<double> DecisionDuration = Meter.CreateHistogram<double>("toex.decision.duration", "ms",
        "Time to decide every recipient of a package and sign the decision.");

    /// <summary>Gateway: copies released to a recipient's feed, by <c>kind</c> and <c>authority</c> (<c>policy-decision</c> or <c>ig-officer</c>).</summary>
    public static readonly Counter<long> Releases = Meter.CreateCounter<long>("toex.releases", "{copy}",
        "Recipient copies sealed and put on a feed, by kind and authority.");

    /// <summary>Gateway: releases held while the audit ledger lags (fail closed), or refused for want of a partner key.</summary>
    public static readonly Counter<long> ReleasesWithheld = Meter.CreateCounter<long>("toex.releases.withheld", "{copy}",
        "Permitted copies not released, by why (held for the ledger, no partner key).");

    /// <summary>Gateway: sealing one copy (sign + encrypt).</summary>
    public static readonly Histogram<double> SealDuration = Meter.CreateHistogram<double>("toex.seal.duration", "ms",
        "Time to sign and encrypt one recipient copy.");

    /// <summary>Gateway: from submission to the copy on the recipient's feed.</summary>
    public static readonly Histogram<double> ReleaseLatency = Meter.CreateHistogram<double>("toex.release.latency", "ms",
        "Time from a package's submission to its copy's release to a recipient.");

    /// <summary>Gateway: items handed to partners (<c>channel</c> <c>feed</c>: <c>event</c> <c>read</c>; <c>push</c>: <c>delivered</c>), and acknowledgements (<c>ack</c>).</summary>
    public static readonly Counter<long> Deliveries = Meter.CreateCounter<long>("toex.deliveries", "{item}",
        "Feed items delivered to partners (event read) and acknowledged by them (event ack), by channel.");

    /// <summary>Gateway: push attempts (one webhook call each), by <c>result</c> (<c>delivered</c>, <c>failed</c>).</summary>
    public static readonly Histogram<double> PushAttemptDuration = Meter.CreateHistogram<double>("toex.push.attempt.duration", "ms",
        "Time of one webhook attempt to a partner's endpoint, by result.");

    /// <summary>Gateway: failed push attempts with another attempt scheduled.</summary>
    public static readonly Counter<long> Retries = Meter.CreateCounter<long>("toex.push.retries", "{attempt}",
        "Failed webhook attempts that were scheduled to be tried again, by item kind.");

    /// <summary>Gateway: pushes given up (retry horizon passed, endpoint gone or disabled), left for an operator.</summary>
    public static readonly Counter<long> DeadLetters = Meter.CreateCounter<long>("toex.push.dead_letters", "{push}",
        "Pushes dead-lettered, by item kind.");

    /// <summary>Gateway: events published from the outbox, by <c>type</c>, and how long each waited there.</summary>
    public static readonly Histogram<double> OutboxWait = Meter.CreateHistogram<double>("toex.outbox.wait", "ms",
        "Time an event waited in the gateway's outbox before the broker confirmed its publish.");

    /// <summary>Audit: entries appended to the ledger, by entry <c>type</c>.</summary>
    public static readonly Counter<long> LedgerEntries = Meter.CreateCounter<long>("toex.ledger.entries", "{entry}",
        "Entries appended to the audit ledger, by type.");

    /// <summary>Audit: how long one append (hashing, the store transaction, the tree) took.</summary>
    public static readonly Histogram<double> LedgerAppendDuration = Meter.CreateHistogram<double>("toex.ledger.append.duration", "ms",
        "Time to append one event's entries to the ledger.");

    /// <summary>Audit: ledger lag, from the event being sent to its entries committed.</summary>
    public static readonly Histogram<double> LedgerLag = Meter.CreateHistogram<double>("toex.ledger.lag", "ms",
        "Time from an event's publication to its entries being committed in the ledger.");

    private static double auditLagMs;

    /// <summary>Gateway: how long its oldest event has waited for the audit worker's confirmation (last checked).</summary>
    public static readonly ObservableGauge<double> AuditLag = Meter.CreateObservableGauge("toex.audit.lag",
        () => Volatile.Read(ref auditLagMs), "ms", "How long the gateway's oldest unconfirmed event has waited for the audit ledger (as last checked).");

    /// <summary>Records the lag the gateway last saw, for <see cref="AuditLag"/>.</summary>
    public static void ReportAuditLag(TimeSpan lag) => Volatile.Write(ref auditLagMs, lag.TotalMilliseconds);

    /// <summary>Milliseconds since <paramref name="startTimestamp"/> (a <see cref="Stopwatch.GetTimestamp"/>).</summary>
    public static double ElapsedMs(long startTimestamp) => Stopwatch.GetElapsedTime(startTimestamp).TotalMilliseconds;

    /// <summary>
    /// The W3C <c>traceparent</c> of the current activity, to keep with work done later (an outbox row), or null when
    /// nothing is traced.
    /// </summary>
    public static string? CurrentTraceParent() => Activity.Current is { IdFormat: ActivityIdFormat.W3C } current ? current.Id : null;

    /// <summary>
    /// Starts an activity whose parent is the stored <paramref name="traceParent"/> (see <see cref="CurrentTraceParent"/>), so work
    /// done later (an outbox publish) joins the trace of the request or message that caused it.
    /// </summary>
    public static Activity? StartLinkedTo(string name, string? traceParent, ActivityKind kind = ActivityKind.Internal) =>
        traceParent is not null && ActivityContext.TryParse(traceParent, traceState: null, out var parent)
            ? Source.StartActivity(name, kind, parent)
            : Source.StartActivity(name, kind);
}
