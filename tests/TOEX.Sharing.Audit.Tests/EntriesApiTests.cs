using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;

namespace TOEX.Sharing.Audit.Tests;

/// <summary><c>GET /api/v1/audit/entries</c> over the fixture's seven entries (see <see cref="AuditApiFixture"/>).</summary>
public abstract class EntriesApiTests(AuditApiFixture fixture)
{
    private const string Entries = "/api/v1/audit/entries";

    private HttpClient Auditor() => fixture.Factory.ClientFor("rocu-wm", "Audit.Read");

    /// <summary>
    /// A search of the fixture's entries. Every search is itself recorded in the ledger, as a consultation at the time
    /// it is made (after 25 November 2026): searches here end on that day, unless they say where to end.
    /// </summary>
    private async Task<JsonObject> PageAsync(string query)
    {
        if (!query.Contains("to=", StringComparison.Ordinal))
        {
            query += (query.Length > 0 ? "&" : "") + "to=2026-11-25T23:59:59Z";
        }
        var response = await Auditor().GetAsync($"{Entries}?{query}");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync<JsonObject>())!;
    }

    private static long[] Indices(JsonObject page) => [.. page["items"]!.AsArray().Select(i => (long)i!["index"]!)];

    private static long? Next(JsonObject page) => (long?)page["next"];

    [Fact]
    public async Task Answers_401_without_a_token()
    {
        var response = await fixture.Factory.CreateClient().GetAsync(Entries);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }

    [Fact]
    public async Task Answers_403_without_the_audit_read_role()
    {
        var response = await fixture.Factory.ClientFor("rocu-wm", "Feed.Read", "Packages.Submit").GetAsync(Entries);

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
    }

    [Fact]
    public async Task Lists_every_entry_in_ledger_order_with_its_fields()
    {
        var page = await PageAsync("");

        Assert.Equal([0L, 1, 2, 3, 4, 5, 6], Indices(page));
        Assert.Null(Next(page));
        var release = page["items"]![3]!.AsObject();
        Assert.Equal("release", (string)release["type"]!);
        Assert.Equal(DateTimeOffset.Parse("2026-11-25T10:02:00Z", System.Globalization.CultureInfo.InvariantCulture), (DateTimeOffset)release["at"]!);
        Assert.Equal("gateway, authorised by policy-decision", (string)release["actor"]!);
        Assert.Equal("purpose safeguarding-children; lawful basis DPA2018-Part3:s35(2)(b); agreement ISA-BCC-003", (string)release["justification"]!);
        Assert.Equal(["bcc-childrens"], release["recipients"]!.AsArray().Select(r => (string)r!));
        Assert.Equal(AuditApiFixture.PackageA, (string)release["packageId"]!);
        Assert.Matches("^[0-9a-f]{64}$", (string)release["leafHash"]!);
    }

    [Theory]
    [InlineData("package=" + AuditApiFixture.PackageA, new long[] { 0, 1, 2, 3 })]
    [InlineData("package=" + AuditApiFixture.PackageB, new long[] { 4, 5, 6 })]
    [InlineData("package=00000000-0000-0000-0000-000000000001", new long[] { })]
    [InlineData("partner=wmp", new long[] { 2 })]
    [InlineData("partner=bcc-childrens", new long[] { 1, 3 })]
    [InlineData("agreement=DSA-POLICE-001", new long[] { 2, 5 })]
    [InlineData("agreement=ISA-BCC-003", new long[] { 1, 3 })]
    [InlineData("originator=rocu-wm", new long[] { 0, 3 })]
    [InlineData("originator=wmp", new long[] { 4 })]
    [InlineData("outcome=permit", new long[] { 1, 3 })]
    [InlineData("outcome=deny", new long[] { 2 })]
    [InlineData("outcome=refer", new long[] { 5 })]
    [InlineData("from=2026-11-25T11:00:00Z", new long[] { 4, 5, 6 })]
    [InlineData("to=2026-11-25T10:01:00Z", new long[] { 0, 1, 2 })]
    [InlineData("from=2026-11-25T10:01:00Z&to=2026-11-25T11:00:00Z", new long[] { 1, 2, 3, 4 })]
    [InlineData("from=2026-11-25T11:01:00%2B01:00", new long[] { 1, 2, 3, 4, 5, 6 })]
    [InlineData("package=" + AuditApiFixture.PackageA + "&outcome=permit&partner=bcc-childrens", new long[] { 1, 3 })]
    [InlineData("agreement=DSA-POLICE-001&outcome=refer", new long[] { 5 })]
    public async Task Narrows_the_entries_by_each_filter(string query, long[] expected)
    {
        var page = await PageAsync(query);

        Assert.Equal(expected, Indices(page));
        Assert.Null(Next(page));
    }

    [Fact]
    public async Task Pages_with_after_and_limit_pointing_next_at_the_last_index_while_more_remain()
    {
        var first = await PageAsync("limit=3");
        Assert.Equal([0L, 1, 2], Indices(first));
        Assert.Equal(2, Next(first));

        var second = await PageAsync($"limit=3&after={Next(first)}");
        Assert.Equal([3L, 4, 5], Indices(second));
        Assert.Equal(5, Next(second));

        var last = await PageAsync($"limit=3&after={Next(second)}");
        Assert.Equal([6L], Indices(last));
        Assert.Null(Next(last));
    }

    [Fact]
    public async Task Pages_a_filtered_list_and_ends_without_next_when_the_page_is_exactly_full()
    {
        var first = await PageAsync("package=" + AuditApiFixture.PackageA + "&limit=2");
        Assert.Equal([0L, 1], Indices(first));
        Assert.Equal(1, Next(first));

        var second = await PageAsync("package=" + AuditApiFixture.PackageA + "&limit=2&after=1");
        Assert.Equal([2L, 3], Indices(second));
        Assert.Null(Next(second));

        var all = await PageAsync("limit=7");
        Assert.Equal(7, Indices(all).Length);
        Assert.Null(Next(all));
    }

    [Theory]
    [InlineData("limit=0", "limit")]
    [InlineData("limit=1001", "limit")]
    [InlineData("limit=ten", "limit")]
    [InlineData("limit=-5", "limit")]
    [InlineData("after=-1", "after")]
    [InlineData("after=last", "after")]
    [InlineData("from=yesterday", "from")]
    [InlineData("to=2026-13-45", "to")]
    [InlineData("outcome=maybe", "outcome")]
    [InlineData("outcome=PERMIT", "outcome")]
    [InlineData("package=ROCUWM-2026-000123", "package")]
    public async Task Answers_400_problem_details_naming_the_malformed_parameter(string query, string field)
    {
        var response = await Auditor().GetAsync($"{Entries}?{query}");

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType!.MediaType);
        var problem = (await response.Content.ReadFromJsonAsync<JsonObject>())!;
        Assert.False(string.IsNullOrEmpty((string?)problem["type"]));
        Assert.False(string.IsNullOrEmpty((string?)problem["title"]));
        Assert.Equal([field], problem["errors"]!.AsObject().Select(e => e.Key));
    }

    [Fact]
    public async Task Names_every_malformed_parameter_at_once()
    {
        var response = await Auditor().GetAsync($"{Entries}?limit=0&after=x&from=y&outcome=z&package=p");

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var problem = (await response.Content.ReadFromJsonAsync<JsonObject>())!;
        Assert.Equal(["after", "from", "limit", "outcome", "package"], problem["errors"]!.AsObject().Select(e => e.Key).Order());
    }
}

public sealed class EntriesApiTestsOnSqlite(SqliteAuditApi fixture) : EntriesApiTests(fixture), IClassFixture<SqliteAuditApi>;

public sealed class EntriesApiTestsOnPostgreSql(PostgreSqlAuditApi fixture) : EntriesApiTests(fixture), IClassFixture<PostgreSqlAuditApi>;
