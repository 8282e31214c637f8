using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using TOEX.Sharing.Audit.Apis;
using TOEX.Sharing.Audit.Data;
using TOEX.Sharing.Audit.Ledger;
using TOEX.Sharing.Ledger;
using TOEX.Sharing.Sealing;
using TOEX.Sharing.ServiceDefaults;

namespace TOEX.Sharing.Audit.Console.Pages;

/// <summary>
/// The ledger's integrity: the tree head signed now (its signature checked), the last one the periodic signer stored,
/// a check that the ledger only grew since the head this officer last checked (a consistency proof, verified here), and
/// the evidence bundle (custodians, who may export).
/// </summary>
[Authorize(Policy = $"{ConsoleAuthentication.Policy}:{Roles.AuditRead}")]
public sealed class IntegrityModel(ConsoleLedger ledger, AuditDb db, SubjectBlindIndex blindIndex) : ConsolePageModel
{
    public CheckedHead Head { get; private set; } = null!;

    public SignedTreeHead? Stored { get; private set; }

    public (long Size, byte[] Root, DateTimeOffset At)? LastSeen { get; private set; }

    public VerificationResult? Checked { get; private set; }

    public bool Custodian => ledger.IsCustodian(User);

    public async Task OnGetAsync() => await LoadAsync();

    public async Task<IActionResult> OnPostCheckAsync()
    {
        await LoadAsync();
        Checked = LastSeen is { } seen ? ledger.Consistency(seen.Size, seen.Root, Head) : VerificationResult.Valid;
        // What this officer has now seen: the next check starts here.
        await RecordAsync(ConsoleLedger.IntegrityKind, "Integrity check of the audit ledger from the IG console", new Dictionary<string, object?>
        {
            ["treeSize"] = Head.Head.TreeSize,
            ["rootHash"] = Head.RootHex,
            ["fromTreeSize"] = LastSeen?.Size,
            ["consistent"] = Checked.Value.IsValid,
            ["signatureValid"] = Head.SignatureValid,
        });
        return Page();
    }

    /// <summary>An evidence bundle (as <c>GET /api/v1/audit/export</c>) of one package's entries, or of the whole ledger; custodians only.</summary>
    public async Task<IActionResult> OnGetBundleAsync(Guid? package)
    {
        if (!Custodian)
        {
            return Forbid();
        }
        var justification = SessionJustification;
        if (justification is null)
        {
            return AskJustification();
        }
        var (filter, _) = EntryFilter.Parse(new EntryQuery(package?.ToString(), null, null, null, null, null, null, null, null, null, null, null, null, null, null),
            blindIndex, subjectRequired: false);
        var bundle = await ledger.BundleAsync(User, filter!, HttpContext.RequestAborted);
        await RecordAsync("console-export", justification, new Dictionary<string, object?>
        {
            ["filter"] = filter!.Describe(),
            ["treeSize"] = bundle.TreeHead.TreeSize,
            ["resultCount"] = bundle.Entries.Count,
        });
        var name = package is { } id ? $"toex-evidence-{id}.json" : "toex-evidence-ledger.json";
        return File(System.Text.Json.JsonSerializer.SerializeToUtf8Bytes(bundle, Contracts.ToexJson.Options), "application/json", name);
    }

    private async Task LoadAsync()
    {
        Head = await ledger.HeadAsync(HttpContext.RequestAborted);
        Stored = (await TreeHeadSigner.StoredAsync(db, HttpContext.RequestAborted)).LastOrDefault();
        LastSeen = await ledger.LastSeenHeadAsync(User, HttpContext.RequestAborted);
    }
}
