using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using TOEX.Sharing.ServiceDefaults;

namespace TOEX.Sharing.Audit.Console.Pages;

/// <summary>A delivery needing attention: a push dead-lettered or failing, or an acknowledgement overdue; the last entry says why.</summary>
public sealed record DeliveryProblem(Guid PackageId, string Partner, string? Reference, ConsoleEntry Last, int Failures);

/// <summary>
/// Deliveries that need attention, from the ledger entries the officer may read: pushes dead-lettered (and not since
/// retried or delivered), pushes failing (not yet delivered or dead-lettered), acknowledgements overdue (not since
/// given). An operator may send a dead-lettered push again: the console calls the gateway's retry route with the
/// officer's own access token, so the gateway's role and operator rules decide.
/// </summary>
[Authorize(Policy = $"{ConsoleAuthentication.Policy}:{Roles.AuditRead}")]
public sealed class DeliveriesModel(ConsoleLedger ledger, GatewayClient gateway) : ConsolePageModel
{
    private static readonly string[] Types =
    [
        "release", "webhook-attempt-failed", "webhook-dead-lettered", "webhook-delivered", "webhook-retry", "webhook-endpoint-disabled",
        "acknowledgement", "acknowledgement-overdue",
    ];

    public IReadOnlyList<DeliveryProblem> DeadLettered { get; private set; } = [];

    public IReadOnlyList<DeliveryProblem> Failing { get; private set; } = [];

    public IReadOnlyList<DeliveryProblem> Overdue { get; private set; } = [];

    public RetryOutcome? Retried { get; private set; }

    public bool CanRetry => Can(Roles.DeliveriesOperate) && gateway.Configured;

    public async Task OnGetAsync() => await LoadAsync();

    public async Task<IActionResult> OnPostRetryAsync(Guid package, string partner, string? reason)
    {
        if (!Can(Roles.DeliveriesOperate))
        {
            return Forbid();
        }
        var (why, _) = Validate(reason);
        Retried = await gateway.RetryAsync(HttpContext, package, partner, why ?? $"Operator retry from the IG console by {Officer}", HttpContext.RequestAborted);
        await LoadAsync();
        return Page();
    }

    private async Task LoadAsync()
    {
        var entries = await ledger.OfTypesAsync(User, Types, ledger.Now.AddDays(-30), HttpContext.RequestAborted);
        var references = entries.Where(e => e.PackageId is not null && e.Text("reference") is not null)
            .GroupBy(e => e.PackageId!.Value).ToDictionary(g => g.Key, g => g.First().Text("reference"));
        var byCopy = entries.Where(e => e.PackageId is not null && e.Partner is not null).GroupBy(e => (e.PackageId!.Value, e.Partner!));
        var dead = new List<DeliveryProblem>();
        var failing = new List<DeliveryProblem>();
        var overdue = new List<DeliveryProblem>();
        foreach (var copy in byCopy)
        {
            var push = copy.Where(e => e.Type.StartsWith("webhook-", StringComparison.Ordinal)).ToList();
            var reference = references.GetValueOrDefault(copy.Key.Item1);
            var failures = push.Count(e => e.Type == "webhook-attempt-failed");
            if (push.Count > 0)
            {
                var last = push[^1];
                var lastSettled = push.LastOrDefault(e => e.Type is "webhook-dead-lettered" or "webhook-delivered" or "webhook-retry");
                if (lastSettled?.Type == "webhook-dead-lettered")
                {
                    dead.Add(new(copy.Key.Item1, copy.Key.Item2, reference, lastSettled, failures));
                }
                else if (last.Type == "webhook-attempt-failed")
                {
                    failing.Add(new(copy.Key.Item1, copy.Key.Item2, reference, last, failures));
                }
            }
            var late = copy.LastOrDefault(e => e.Type == "acknowledgement-overdue");
            if (late is not null && !copy.Any(e => e.Type == "acknowledgement" && e.Index > late.Index && e.Text("kind") != "recall"))
            {
                overdue.Add(new(copy.Key.Item1, copy.Key.Item2, reference, late, 0));
            }
        }
        DeadLettered = dead;
        Failing = failing;
        Overdue = overdue;
    }
}
