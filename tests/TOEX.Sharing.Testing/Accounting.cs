using System.Collections.Concurrent;
using System.Globalization;
using System.Text;

namespace TOEX.Sharing.Testing;

/// <summary>A copy as a partner received it: by push (with its <c>webhook-id</c>) or in a feed read (with its cursor).</summary>
public sealed record ReceivedCopy(Guid PackageId, string Partner, string Channel, string Key);

/// <summary>
/// What the partners received during a run, as they saw it: every webhook accepted and every feed item read,
/// including any received twice (which the balance counts as duplicates).
/// </summary>
public sealed class PartnerLog
{
    private readonly ConcurrentQueue<ReceivedCopy> _copies = new();

    public void Add(ReceivedCopy copy) => _copies.Enqueue(copy);

    public IReadOnlyList<ReceivedCopy> Copies => [.. _copies];

    /// <summary>Distinct copies received (package and partner).</summary>
    public int Distinct => _copies.Select(c => (c.PackageId, c.Partner)).Distinct().Count();
}

/// <summary>
/// The balance of a fault run (issue 16, item 10), from the gateway's store, the ledger's store and what the partners
/// received: accepted = decided; permitted = delivered + dead-lettered + withdrawn; ledger entries = events;
/// duplicates = 0; lost = 0. Every fault test prints its <see cref="Line"/> and asserts <see cref="Holds"/>.
/// </summary>
public sealed record Balance(
    int Accepted, int Decided, int Permitted, int Delivered, int DeadLettered, int Withdrawn, int Events, int LedgerEntries,
    int Duplicates, int Lost, IReadOnlyList<string> Findings)
{
    /// <summary>Whether everything balances: nothing lost, nothing doubled.</summary>
    public bool Holds => Accepted == Decided && Permitted == Delivered + DeadLettered + Withdrawn && Events == LedgerEntries
        && Duplicates == 0 && Lost == 0;

    /// <summary>One line: the figures and whether they balance.</summary>
    public string Line => string.Create(CultureInfo.InvariantCulture,
        $"balance: accepted={Accepted} decided={Decided} | permitted={Permitted} delivered={Delivered} dead-lettered={DeadLettered} "
        + $"withdrawn={Withdrawn} | events={Events} ledger-entries={LedgerEntries} | duplicates={Duplicates} lost={Lost} | {(Holds ? "BALANCED" : "NOT BALANCED")}{(Ledger is null ? "" : " | ledger: " + Ledger)}");

    /// <summary>How the whole ledger was proved after the run (e.g. its evidence bundle verified offline), when it was.</summary>
    public string? Ledger { get; init; }

    /// <summary>The line and, when it does not balance, what is missing or doubled (at most 40 findings).</summary>
    public string Report() => Holds ? Line : Line + Environment.NewLine + string.Join(Environment.NewLine, Findings.Take(40));

    /// <summary>
    /// Counts a run's balance. <paramref name="accepted"/>: the packages the gateway answered 202. The gateway's store
    /// gives the decisions, the pushes and feed items and every event of its outbox; the audit store the ledger entries,
    /// each keyed <c>service/Type/messageId[:part]</c>.
    /// </summary>
    public static async Task<Balance> CountAsync(IReadOnlyCollection<Guid> accepted, TestStore gateway, TestStore ledger, PartnerLog partners)
    {
        var findings = new List<string>();
        var ids = accepted.ToHashSet();
        var recipients = (await gateway.RowsAsync("""SELECT "PackageId", "Partner", "Outcome" FROM "Recipients" """))
            .Select(r => (Package: Guid.Parse(r[0]!), Partner: r[1]!, Outcome: r[2]))
            .Where(r => ids.Contains(r.Package)).ToList();
        var pushes = (await gateway.RowsAsync("""SELECT "PackageId", "Recipient", "State" FROM "Webhooks" WHERE "Kind" = 'package'"""))
            .Select(r => (Package: Guid.Parse(r[0]!), Partner: r[1]!, State: r[2]!)).ToList();
        var feed = (await gateway.RowsAsync("""SELECT "PackageId", "Recipient", "WithdrawnAt" FROM "Feed" WHERE "Kind" = 'package'"""))
            .Select(r => (Package: Guid.Parse(r[0]!), Partner: r[1]!, Withdrawn: r[2] is not null)).ToList();
        var outbox = (await gateway.RowsAsync("""SELECT "MessageId" FROM "Outbox" """)).Select(r => Guid.Parse(r[0]!)).ToHashSet();
        var entries = (await ledger.RowsAsync("""SELECT "EventKey", "Type", "PackageId", "Partner" FROM "Entries" """))
            .Select(r => (Key: r[0]!, Type: r[1]!, Package: r[2] is null ? (Guid?)null : Guid.Parse(r[2]!), Partner: r[3])).ToList();

        // accepted = decided: every recipient of every accepted package has an outcome, and the ledger its decision entry.
        var decisionEntries = entries.Where(e => e.Type == "decision" && e.Package is { } p && ids.Contains(p))
            .GroupBy(e => (e.Package!.Value, e.Partner)).ToDictionary(g => g.Key, g => g.Count());
        var byPackage = recipients.GroupBy(r => r.Package).ToDictionary(g => g.Key, g => g.ToList());
        var decided = 0;
        foreach (var id in ids)
        {
            if (!byPackage.TryGetValue(id, out var list))
            {
                findings.Add($"accepted but unknown to the gateway's store: {id}");
            }
            else if (list.Any(r => r.Outcome is null))
            {
                findings.Add($"accepted, never decided: {id}");
            }
            else if (list.Any(r => !decisionEntries.ContainsKey((id, r.Partner))))
            {
                findings.Add($"decided, decision not in the ledger: {id}");
            }
            else
            {
                decided++;
            }
        }

        // permitted = delivered + dead-lettered + withdrawn, as the partners saw it.
        var received = partners.Copies.GroupBy(c => (c.PackageId, c.Partner)).ToDictionary(g => g.Key, g => g.ToList());
        var permitted = recipients.Where(r => r.Outcome == "permit").ToList();
        int delivered = 0, deadLettered = 0, withdrawn = 0, lost = ids.Count - decided;
        foreach (var copy in permitted)
        {
            if (received.ContainsKey((copy.Package, copy.Partner)))
            {
                delivered++;
            }
            else if (pushes.Any(p => p.Package == copy.Package && p.Partner == copy.Partner && p.State == "dead-lettered"))
            {
                deadLettered++;
            }
            else if (feed.Any(f => f.Package == copy.Package && f.Partner == copy.Partner && f.Withdrawn))
            {
                withdrawn++;
            }
            else
            {
                lost++;
                findings.Add($"permitted, never received: {copy.Package} to {copy.Partner}");
            }
        }

        // duplicates: a copy received under two webhook-ids or at two feed cursors; a ledger entry twice for one fact.
        var duplicates = 0;
        foreach (var ((package, partner), copies) in received)
        {
            var keys = copies.GroupBy(c => c.Channel).Select(g => g.Select(c => c.Key).Distinct().Count());
            if (keys.Any(k => k > 1))
            {
                duplicates++;
                findings.Add($"received twice: {package} by {partner} ({string.Join(", ", copies.Select(c => $"{c.Channel} {c.Key}"))})");
            }
            if (!ids.Contains(package))
            {
                findings.Add($"received, never accepted: {package} by {partner}");
                duplicates++;
            }
        }
        foreach (var twice in entries.Where(e => e.Type is "submission" or "decision" or "release" && e.Package is not null)
                     .GroupBy(e => (e.Type, e.Package, e.Partner)).Where(g => g.Count() > 1))
        {
            duplicates++;
            findings.Add($"ledger entry twice: {twice.Key.Type} of {twice.Key.Package} {twice.Key.Partner}");
        }
        foreach (var twice in feed.GroupBy(f => (f.Package, f.Partner)).Where(g => g.Count() > 1))
        {
            duplicates++;
            findings.Add($"on a feed twice: {twice.Key.Package} for {twice.Key.Partner}");
        }

        // ledger entries = events: each accepted submission, each decision, and every event of the gateway's outbox.
        var submissionEntries = entries.Count(e => e.Type == "submission" && e.Package is { } p && ids.Contains(p));
        var ledgered = entries.Where(e => e.Key.StartsWith("gateway/", StringComparison.Ordinal))
            .Select(e => Guid.TryParseExact(e.Key.Split('/')[2].Split(':')[0], "N", out var id) ? id : Guid.Empty).ToHashSet();
        var outboxInLedger = outbox.Count(ledgered.Contains);
        foreach (var missing in outbox.Where(id => !ledgered.Contains(id)).Take(20))
        {
            findings.Add($"event of the gateway's outbox not in the ledger: {missing}");
        }
        var decisions = recipients.Count(r => r.Outcome is not null);
        var decisionsInLedger = recipients.Count(r => r.Outcome is not null && decisionEntries.ContainsKey((r.Package, r.Partner)));
        var events = ids.Count + decisions + outbox.Count;
        var ledgerEntries = submissionEntries + decisionsInLedger + outboxInLedger;
        lost += Math.Max(0, events - ledgerEntries);
        return new Balance(ids.Count, decided, permitted.Count, delivered, deadLettered, withdrawn, events, ledgerEntries,
            duplicates, lost, findings);
    }

    /// <summary>Waits (up to <paramref name="timeout"/>) until the run balances; returns the last count either way.</summary>
    public static async Task<Balance> SettleAsync(Func<Task<Balance>> count, TimeSpan timeout)
    {
        Balance? last = null;
        try
        {
            await Eventually.UntilAsync(async () => (last = await count()).Holds, timeout, () => "", poll: TimeSpan.FromSeconds(1));
        }
        catch (TimeoutException)
        {
            // The caller asserts on the last count and shows what is missing.
        }
        return last!;
    }
}

/// <summary>Collects a run's lines (faults injected, counts, the balance) for the test output and the console.</summary>
public sealed class RunLog(Action<string> write)
{
    private readonly StringBuilder _text = new();
    private readonly System.Diagnostics.Stopwatch _clock = System.Diagnostics.Stopwatch.StartNew();

    public void Write(string line)
    {
        var stamped = string.Create(CultureInfo.InvariantCulture, $"[{_clock.Elapsed.TotalSeconds,7:0.0} s] {line}");
        lock (_text)
        {
            _text.AppendLine(stamped);
        }
        write(stamped);
        Console.WriteLine(stamped);
    }

    public override string ToString()
    {
        lock (_text)
        {
            return _text.ToString();
        }
    }
}
