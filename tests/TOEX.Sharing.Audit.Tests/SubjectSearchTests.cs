using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using MassTransit;
using TOEX.Sharing.Contracts;
using TOEX.Sharing.Sealing;
using TOEX.Sharing.Testing;

namespace TOEX.Sharing.Audit.Tests;

/// <summary>
/// <c>GET /api/v1/audit/subjects</c>: every entry about the packages whose subjects match, found through keyed
/// blind indexes; CSV of any search; each search recorded as a consultation naming no subject in clear.
/// </summary>
public abstract class SubjectSearchTests(StoreKind store) : IAsyncLifetime
{
    private readonly AuditFactory _factory = new(store);
    private SubjectBlindIndex _blindIndex = null!;
    private Guid _janes;
    private Guid _johns;

    private static readonly DateOnly JaneBorn = new(2010, 3, 14);

    public async Task InitializeAsync()
    {
        _factory.Settings["Clock:StartsAt"] = "2026-12-01T09:00:00Z";
        _blindIndex = SubjectBlindIndex.Open(_factory.BlindIndexKeyPath, create: true);
        _janes = NewId.NextGuid();
        _johns = NewId.NextGuid();
        // Jane's package: submitted, decided (bcc permit, wmp deny), released, read by the partner.
        await _factory.DeliverAsync(Submitted(_janes, new Subject
        {
            Role = "victim", Name = "Jane Example", DateOfBirth = JaneBorn, Identifiers = new Dictionary<string, string> { ["pnc"] = "10/123456X" },
        }));
        await _factory.DeliverAsync(new SharingDecided
        {
            PackageId = _janes,
            DecisionJws = new DecisionSigner(_factory.DecisionKeys.Current).Sign(Events.Decision(_janes)),
        });
        await _factory.DeliverAsync(Events.Released(_janes));
        await _factory.DeliverAsync(new ConsultationRecorded
        {
            Kind = "feed-read",
            At = Events.At.AddMinutes(5),
            Actor = "bcc-childrens/case-worker-7",
            Organisation = "bcc-childrens",
            Justification = "delivery",
            Items = [new ConsultedItem { PackageId = _janes, Originator = "rocu-wm", Recipient = "bcc-childrens", Kind = "package", Cursor = 7 }],
        });
        // John's package: submitted only.
        await _factory.DeliverAsync(Submitted(_johns, new Subject { Role = "suspect", Name = "John Example", DateOfBirth = new DateOnly(1992, 7, 1) }));
    }

    public Task DisposeAsync()
    {
        _factory.Dispose();
        return Task.CompletedTask;
    }

    private PackageSubmitted Submitted(Guid id, Subject subject) =>
        Events.Submitted(id, subject.DateOfBirth) with { SubjectIndexes = _blindIndex.Of([subject]) };

    private HttpClient Auditor(string subject = "ig-officer-1") => _factory.ClientAs("rocu-wm", subject, "Audit.Read");

    private async Task<JsonObject> SearchAsync(string query)
    {
        var response = await Auditor().GetAsync($"/api/v1/audit/subjects?{query}");
        Assert.True(response.StatusCode == HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
        return (await response.Content.ReadFromJsonAsync<JsonObject>())!;
    }

    private static List<(string Type, Guid? Package)> Found(JsonObject page) =>
        [.. page["items"]!.AsArray().Select(i => ((string)i!["type"]!, (Guid?)i["packageId"]))];

    [Theory]
    [InlineData("name=Jane%20Example&dateOfBirth=2010-03-14")]
    [InlineData("name=%20JANE%20%20example&dateOfBirth=2010-03-14")]
    [InlineData("name=jane%20example")]
    [InlineData("pnc=10/123456X")]
    [InlineData("pnc=2010/0123456x")]
    [InlineData("name=Nobody&pnc=10/123456X")]
    public async Task Finds_every_disclosure_about_the_person_however_written(string query)
    {
        var page = await SearchAsync(query);

        Assert.Equal(
            [("submission", _janes), ("decision", _janes), ("decision", _janes), ("release", _janes), ("consultation", _janes)],
            Found(page));
    }

    [Theory]
    [InlineData("name=Jane%20Example&dateOfBirth=2010-03-15")]
    [InlineData("name=Jane%20Exampel")]
    [InlineData("pnc=10/123457X")]
    public async Task Finds_nothing_for_someone_else(string query) => Assert.Empty(Found(await SearchAsync(query)));

    [Fact]
    public async Task Narrows_a_subject_search_by_the_other_filters_and_pages_by_index()
    {
        var releases = await SearchAsync("pnc=10/123456X&type=release");
        var first = await SearchAsync("pnc=10/123456X&limit=2");
        var rest = await SearchAsync($"pnc=10/123456X&limit=10&after={(long)first["next"]!}");

        Assert.Equal([("release", (Guid?)_janes)], Found(releases));
        Assert.Equal(2, Found(first).Count);
        Assert.Equal(3, Found(rest).Count);
        Assert.Null(rest["next"]);
    }

    [Fact]
    public async Task Filters_entries_by_subject_too()
    {
        var response = await Auditor().GetFromJsonAsync<JsonObject>("/api/v1/audit/entries?name=John%20Example&dateOfBirth=1992-07-01");

        Assert.Equal([("submission", (Guid?)_johns)], Found(response!));
    }

    [Theory]
    [InlineData("", "name")]
    [InlineData("dateOfBirth=2010-03-14", "dateOfBirth")]
    [InlineData("name=Jane&dateOfBirth=14/03/2010", "dateOfBirth")]
    [InlineData("name=---", "name")]
    [InlineData("pnc=123456X", "pnc")]
    [InlineData("pnc=10/123456X&format=xml", "format")]
    public async Task Answers_400_naming_the_malformed_subject_field(string query, string field)
    {
        var response = await Auditor().GetAsync($"/api/v1/audit/subjects?{query}");

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType!.MediaType);
        var problem = (await response.Content.ReadFromJsonAsync<JsonObject>())!;
        Assert.Equal([field], problem["errors"]!.AsObject().Select(e => e.Key));
    }

    [Fact]
    public async Task Records_each_search_as_a_consultation_with_the_blind_indexes_not_the_subject()
    {
        var auditor = Auditor("ig-officer-2");
        auditor.DefaultRequestHeaders.Add("X-Justification", "Subject access request SAR-2026-114");

        await auditor.GetAsync("/api/v1/audit/subjects?name=Jane%20Example&dateOfBirth=2010-03-14&pnc=10/123456X");

        var consultation = (await _factory.LedgerAsync()).Last();
        Assert.Equal("consultation", consultation.Type);
        Assert.Equal("rocu-wm/ig-officer-2", consultation.Actor);
        Assert.Equal("Subject access request SAR-2026-114", consultation.Justification);
        var detail = JsonNode.Parse(consultation.Canonical)!["detail"]!;
        Assert.Equal("audit-subject-search", (string)detail["kind"]!);
        Assert.Equal(5, (int)detail["resultCount"]!);
        Assert.Equal(
            [_blindIndex.NameAndDateOfBirth("Jane Example", JaneBorn), _blindIndex.Pnc("10/123456X")!],
            detail["filter"]!["subjects"]!.AsArray().Select(s => (string)s!));
        foreach (var secret in new[] { "Jane", "2010-03-14", "123456X" })
        {
            Assert.All(await _factory.StoredTextAsync(), v => Assert.DoesNotContain(secret, v, StringComparison.OrdinalIgnoreCase));
        }
    }

    [Fact]
    public async Task Exports_a_search_as_rfc4180_csv_safe_from_formula_injection()
    {
        await _factory.DeliverAsync(Events.Rejected(_janes) with { Why = "=HYPERLINK(\"http://evil\",\"x\"), said \"no\"" });
        var client = Auditor();
        client.DefaultRequestHeaders.Accept.ParseAdd("text/csv");

        var response = await client.GetAsync("/api/v1/audit/subjects?pnc=10/123456X&type=decision-rejected");
        var byRoute = await Auditor().GetAsync("/api/v1/audit/entries.csv?pnc=10/123456X&limit=2");

        Assert.Equal("text/csv", response.Content.Headers.ContentType!.MediaType);
        var lines = (await response.Content.ReadAsStringAsync()).Split("\r\n");
        Assert.Equal("\"index\",\"type\",\"at\",\"actor\",\"justification\",\"recipients\",\"packageId\",\"reference\",\"originator\",\"partner\",\"agreement\",\"outcome\",\"leafHash\"", lines[0]);
        Assert.StartsWith("\"6\",\"decision-rejected\",", lines[1], StringComparison.Ordinal);
        Assert.Contains(",\"'=HYPERLINK(\"\"http://evil\"\",\"\"x\"\"), said \"\"no\"\"\",", lines[1], StringComparison.Ordinal);
        Assert.Equal([""], lines[2..]);
        Assert.Equal("text/csv", byRoute.Content.Headers.ContentType!.MediaType);
        Assert.Equal(4, (await byRoute.Content.ReadAsStringAsync()).Split("\r\n").Length);
        Assert.Contains("after=1", byRoute.Headers.GetValues("Link").Single(), StringComparison.Ordinal);
    }
}

public sealed class SubjectSearchTestsOnSqlite() : SubjectSearchTests(StoreKind.Sqlite);

public sealed class SubjectSearchTestsOnPostgreSql() : SubjectSearchTests(StoreKind.PostgreSql);
