using System.Globalization;
using Microsoft.AspNetCore.Authorization;
using TOEX.Sharing.ServiceDefaults;

namespace TOEX.Sharing.Audit.Console.Pages;

/// <summary>A chart and the table that says the same: categories down, series across.</summary>
public sealed record Chart(string Id, string Title, string Description, IReadOnlyList<string> Categories, IReadOnlyList<ChartSeries> Series, string Unit)
{
    public string Svg => SvgChart.StackedBars(Id, Title, Description, Categories, Series, Unit);
}

/// <summary>
/// Charts, drawn by the service as SVG from the ledger entries the officer may read over the last weeks: disclosures
/// per partner per week, decision outcomes per week, referral waiting times. Counts only; no personal data.
/// </summary>
[Authorize(Policy = $"{ConsoleAuthentication.Policy}:{Roles.AuditRead}")]
public sealed class ChartsModel(ConsoleLedger ledger) : ConsolePageModel
{
    public const int Weeks = 12;

    public static readonly IReadOnlyList<(string Label, TimeSpan Under)> WaitBuckets =
    [
        ("under 1 hour", TimeSpan.FromHours(1)), ("1 to 4 hours", TimeSpan.FromHours(4)), ("4 to 24 hours", TimeSpan.FromDays(1)),
        ("1 to 3 days", TimeSpan.FromDays(3)), ("3 days or more", TimeSpan.MaxValue),
    ];

    private static readonly string[] Outcomes = ["permit", "refer", "deny"];

    public IReadOnlyList<Chart> Charts { get; private set; } = [];

    public async Task OnGetAsync()
    {
        var now = ledger.Now;
        var firstWeek = Monday(now).AddDays(-7 * (Weeks - 1));
        var weeks = Enumerable.Range(0, Weeks).Select(i => firstWeek.AddDays(7 * i)).ToList();
        var labels = weeks.Select(w => "w/c " + w.ToString("d MMM", CultureInfo.InvariantCulture)).ToList();
        var entries = await ledger.OfTypesAsync(User, ["release", "decision", "referral-approved", "referral-rejected"],
            new DateTimeOffset(firstWeek.ToDateTime(TimeOnly.MinValue), TimeSpan.Zero), HttpContext.RequestAborted);
        int WeekOf(ConsoleEntry e) => (Monday(e.At).DayNumber - firstWeek.DayNumber) / 7;

        var releases = entries.Where(e => e.Type == "release" && e.Partner is not null).ToList();
        var byPartner = releases.GroupBy(e => e.Partner!).OrderBy(g => g.Key, StringComparer.Ordinal)
            .Select(g => new ChartSeries(g.Key, Count(g, WeekOf))).ToList();
        var decisions = entries.Where(e => e.Type == "decision" && e.Outcome is not null).ToList();
        var outcomes = Outcomes.Select(o => new ChartSeries(o, Count(decisions.Where(d => d.Outcome == o), WeekOf))).ToList();

        var referred = decisions.Where(d => d.Outcome == "refer").ToList();
        var waits = entries.Where(e => e.Type.StartsWith("referral-", StringComparison.Ordinal))
            .Select(e => (e.Type, Wait: referred.Where(r => r.PackageId == e.PackageId && r.Partner == e.Partner).Select(r => e.At - r.At).FirstOrDefault()))
            .ToList();
        var waiting = new[] { ("approved", "referral-approved"), ("rejected", "referral-rejected") }
            .Select(k => new ChartSeries(k.Item1, [.. WaitBuckets.Select((b, i) => waits.Count(w => w.Type == k.Item2
                && w.Wait < b.Under && (i == 0 || w.Wait >= WaitBuckets[i - 1].Under)))]))
            .ToList();

        Charts =
        [
            new("partners", "Disclosures per partner per week",
                $"Copies released to each partner in each of the last {Weeks} weeks: {releases.Count} in all.", labels, byPartner, "disclosures"),
            new("outcomes", "Decision outcomes per week",
                $"Per-recipient decisions by outcome in each of the last {Weeks} weeks: {decisions.Count} in all.", labels, outcomes, "decisions"),
            new("waiting", "How long referrals waited for an officer",
                $"Referrals decided in the last {Weeks} weeks by the time from referral to decision: {waits.Count} in all.",
                [.. WaitBuckets.Select(b => b.Label)], waiting, "referrals"),
        ];
    }

    private static int[] Count(IEnumerable<ConsoleEntry> entries, Func<ConsoleEntry, int> week)
    {
        var counts = new int[Weeks];
        foreach (var e in entries)
        {
            var w = week(e);
            if (w is >= 0 and < Weeks)
            {
                counts[w]++;
            }
        }
        return counts;
    }

    private static DateOnly Monday(DateTimeOffset at)
    {
        var day = DateOnly.FromDateTime(at.UtcDateTime);
        return day.AddDays(-(((int)day.DayOfWeek + 6) % 7));
    }
}
