using System.Globalization;
using Microsoft.AspNetCore.Authorization;
using TOEX.Sharing.Audit.Agreements;
using TOEX.Sharing.ServiceDefaults;

namespace TOEX.Sharing.Audit.Console.Pages;

/// <summary>The agreement register (as <c>GET /api/v1/agreements</c>), with the disclosures under each over a chosen period.</summary>
[Authorize(Policy = $"{ConsoleAuthentication.Policy}:{Roles.PoliciesRead}")]
public sealed class AgreementsModel(AgreementRegister register, Data.AuditDb db, TimeProvider time) : ConsolePageModel
{
    public AgreementRegisterView Register { get; private set; } = null!;

    public IReadOnlyDictionary<string, int> Disclosures { get; private set; } = new Dictionary<string, int>();

    public DateOnly From { get; private set; }

    public DateOnly To { get; private set; }

    public string? Error { get; private set; }

    public async Task OnGetAsync(string? from, string? to)
    {
        var today = DateOnly.FromDateTime(time.GetUtcNow().UtcDateTime);
        var first = today.AddDays(-90);
        var last = today;
        if (!Day(from, ref first) | !Day(to, ref last) || first > last)
        {
            Error = "Enter the period as two days, the first not after the second.";
            (first, last) = (today.AddDays(-90), today);
        }
        (From, To) = (first, last);
        Register = register.For(User, today);
        Disclosures = await register.DisclosureCountsAsync(db, User,
            new DateTimeOffset(From.ToDateTime(TimeOnly.MinValue), TimeSpan.Zero),
            new DateTimeOffset(To.ToDateTime(TimeOnly.MaxValue), TimeSpan.Zero), HttpContext.RequestAborted);
    }

    private static bool Day(string? text, ref DateOnly day) =>
        string.IsNullOrEmpty(text) || DateOnly.TryParseExact(text, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out day);
}
