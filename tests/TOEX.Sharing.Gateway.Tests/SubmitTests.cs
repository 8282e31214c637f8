using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using MassTransit.Testing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using TOEX.Sharing.Contracts;
using TOEX.Sharing.Gateway.Data;
using TOEX.Sharing.Testing;

namespace TOEX.Sharing.Gateway.Tests;

public abstract class SubmitTests(StoreKind store) : IDisposable
{
    private readonly GatewayFactory _factory = new(store: store);

    public void Dispose()
    {
        _factory.Dispose();
        GC.SuppressFinalize(this);
    }

    private HttpClient Submitter(string organisation = "rocu-wm") => _factory.ClientFor(organisation, "Packages.Submit");

    [Theory]
    [InlineData("id")]
    [InlineData("status")]
    [InlineData("submittedBy")]
    [InlineData("decisions")]
    [InlineData("policyVersion")]
    [InlineData("outcome")]
    public async Task Server_owned_fields_are_never_bound_from_the_body(string field)
    {
        var package = Packages.Example();
        package[field] = field == "decisions" ? new JsonArray(new JsonObject { ["recipient"] = "wmp", ["outcome"] = "permit" }) : "decided";

        var response = await Submitter().PostAsync("/api/v1/packages", Packages.Json(package));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var errors = (await response.Content.ReadFromJsonAsync<JsonObject>())!["errors"]!.AsObject();
        Assert.Equal("Unknown field.", (string)errors[field]![0]!);
        await using var scope = _factory.Services.CreateAsyncScope();
        Assert.Empty(await scope.ServiceProvider.GetRequiredService<GatewayDb>().Submissions.ToListAsync());
    }

    [Fact]
    public async Task Accepts_a_valid_package_and_publishes_only_its_facts()
    {
        var response = await Submitter().PostAsync("/api/v1/packages", Packages.Json(Packages.Example()));

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var body = await response.Content.ReadFromJsonAsync<JsonObject>();
        var id = Guid.Parse((string)body!["id"]!);
        Assert.Equal("submitted", (string)body["status"]!);
        Assert.Equal($"/api/v1/packages/{id}", response.Headers.Location!.OriginalString);

        var harness = _factory.Services.GetRequiredService<ITestHarness>();
        Assert.True(await harness.Published.Any<PackageSubmitted>());
        var published = harness.Published.Select<PackageSubmitted>().First().Context.Message;
        Assert.Equal(id, published.PackageId);
        Assert.Equal(["bcc-childrens", "wmp"], published.Facts.Recipients);
        Assert.Equal("rocu-wm/rocu-wm-tester", published.SubmittedBy);
        var wire = ToexJson.Serialize(published);
        Assert.DoesNotContain("Jane Example", wire, StringComparison.Ordinal);
        Assert.DoesNotContain("10/123456X", wire, StringComparison.Ordinal);
        Assert.DoesNotContain("Provenance", wire, StringComparison.Ordinal);
        // No date of birth on the bus: only the date from which the youngest subject (born 2010-03-14) is an adult.
        Assert.DoesNotContain("2010-03-14", wire, StringComparison.Ordinal);
        Assert.DoesNotContain("1992-07-01", wire, StringComparison.Ordinal);
        Assert.DoesNotContain("dateOfBirth", wire, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("datesOfBirth", wire, StringComparison.OrdinalIgnoreCase);
        Assert.Equal(new DateOnly(2028, 3, 14), published.Facts.MinorUntil);
        Assert.Equal(2, published.Facts.SubjectCount);
    }

    [Fact]
    public async Task Treats_the_same_reference_and_content_as_the_same_submission()
    {
        var client = Submitter();
        var first = await client.PostAsync("/api/v1/packages", Packages.Json(Packages.Example()));
        // Same content, other property order and whitespace.
        var reordered = new JsonObject(Packages.Example().Reverse().Select(p => KeyValuePair.Create(p.Key, p.Value?.DeepClone())));
        var second = await client.PostAsync("/api/v1/packages", new StringContent(reordered.ToJsonString(new() { WriteIndented = true }), Encoding.UTF8, "application/json"));

        Assert.Equal(HttpStatusCode.Accepted, first.StatusCode);
        Assert.Equal(HttpStatusCode.Accepted, second.StatusCode);
        Assert.Equal(first.Headers.Location, second.Headers.Location);
        var harness = _factory.Services.GetRequiredService<ITestHarness>();
        Assert.Single(harness.Published.Select<PackageSubmitted>());
    }

    [Fact]
    public async Task Answers_409_for_the_same_reference_with_other_content()
    {
        var client = Submitter();
        await client.PostAsync("/api/v1/packages", Packages.Json(Packages.Example()));
        var changed = Packages.Example();
        changed["summary"] = "Something else.";

        var response = await client.PostAsync("/api/v1/packages", Packages.Json(changed));

        Assert.Equal(HttpStatusCode.Conflict, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType!.MediaType);
    }

    [Fact]
    public async Task Names_every_bad_field()
    {
        var package = Packages.Example();
        package["colour"] = "blue";
        package["classification"] = "RESTRICTED";
        package["handlingConditions"] = new JsonArray();
        package["reviewDate"] = "25/11/2027";
        package["subjects"]![0]!["dateOfBirth"] = "2010-02-30";
        package["subjects"]![1]!["role"] = "bystander";
        package["dataCategories"] = new JsonArray("personal", "gossip");
        package["recipients"] = new JsonArray("wmp", "bcc-childrens", "wmp");

        var response = await Submitter().PostAsync("/api/v1/packages", Packages.Json(package));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType!.MediaType);
        var errors = (await response.Content.ReadFromJsonAsync<JsonObject>())!["errors"]!.AsObject();
        Assert.Equal(
            new[] { "classification", "colour", "dataCategories[1]", "handlingConditions", "recipients[2]", "reviewDate", "subjects[0].dateOfBirth", "subjects[1].role" },
            errors.Select(e => e.Key).Order(StringComparer.Ordinal));
    }

    /// <summary>
    /// The published submission says the instant the store keeps, to the tick: a repeated submission whose first publish
    /// could not be marked done is published again from the stored row, and the two must be the same event, byte for byte
    /// (PostgreSQL keeps microseconds; other content under the same message id is a conflict to the ledger).
    /// </summary>
    [Fact]
    public async Task Publishes_the_submission_time_the_store_keeps()
    {
        _factory.Time = new FakeTimeProvider(DateTimeOffset.Parse("2026-11-25T12:00:00.1234567Z", CultureInfo.InvariantCulture));

        var response = await Submitter().PostAsync("/api/v1/packages", Packages.Json(Packages.Example()));

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var harness = _factory.Services.GetRequiredService<ITestHarness>();
        Assert.True(await harness.Published.Any<PackageSubmitted>());
        var published = harness.Published.Select<PackageSubmitted>().First().Context.Message;
        await using var scope = _factory.Services.CreateAsyncScope();
        var stored = await scope.ServiceProvider.GetRequiredService<GatewayDb>().Submissions.SingleAsync();
        Assert.Equal(stored.SubmittedAt.UtcTicks, published.SubmittedAt.UtcTicks);
        Assert.Equal(DateTimeOffset.Parse("2026-11-25T12:00:00.123456Z", CultureInfo.InvariantCulture), published.SubmittedAt);
    }

    /// <summary>
    /// A subject cannot be born after today: the gateway's date (its TimeProvider, UTC). Today itself is accepted; the next
    /// day is refused with 400 naming the field, as every other bad field, even a minute before midnight.
    /// </summary>
    [Theory]
    [InlineData("2026-11-25", true)]
    [InlineData("2026-11-26", false)]
    [InlineData("9999-12-31", false)]
    public async Task Refuses_a_date_of_birth_after_today(string dateOfBirth, bool accepted)
    {
        _factory.Time = new FakeTimeProvider(DateTimeOffset.Parse("2026-11-25T23:59:00Z", CultureInfo.InvariantCulture));
        var package = Packages.Example();
        package["subjects"]![1]!["dateOfBirth"] = dateOfBirth;

        var response = await Submitter().PostAsync("/api/v1/packages", Packages.Json(package));

        if (accepted)
        {
            Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
            return;
        }
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType!.MediaType);
        var errors = (await response.Content.ReadFromJsonAsync<JsonObject>())!["errors"]!.AsObject();
        Assert.Equal(["subjects[1].dateOfBirth"], errors.Select(e => e.Key));
        Assert.Equal("A date of birth cannot be after today (2026-11-25, UTC).", (string)errors["subjects[1].dateOfBirth"]![0]!);
        await using var scope = _factory.Services.CreateAsyncScope();
        Assert.Empty(await scope.ServiceProvider.GetRequiredService<GatewayDb>().Submissions.ToListAsync());
    }

    [Fact]
    public async Task Refuses_handling_code_P_with_conditions_and_no_recipients()
    {
        var package = Packages.Example();
        package["handlingCode"] = "P";
        package["recipients"] = new JsonArray();

        var response = await Submitter().PostAsync("/api/v1/packages", Packages.Json(package));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var errors = (await response.Content.ReadFromJsonAsync<JsonObject>())!["errors"]!.AsObject();
        Assert.Contains("handlingConditions", errors.Select(e => e.Key));
        Assert.Contains("recipients", errors.Select(e => e.Key));
    }

    [Fact]
    public async Task Refuses_malformed_json_naming_where()
    {
        var response = await Submitter().PostAsync("/api/v1/packages",
            new StringContent("{\"reference\": ", Encoding.UTF8, "application/json"));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var errors = (await response.Content.ReadFromJsonAsync<JsonObject>())!["errors"]!.AsObject();
        Assert.Contains("$", errors.Select(e => e.Key));
    }

    [Fact]
    public async Task Answers_403_when_the_originator_is_not_the_callers_organisation()
    {
        var response = await Submitter("wmp").PostAsync("/api/v1/packages", Packages.Json(Packages.Example()));

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType!.MediaType);
    }

    [Fact]
    public async Task Answers_413_for_a_body_over_1_MiB()
    {
        var package = Packages.Example();
        package["body"] = new string('x', 1024 * 1024);

        var response = await Submitter().PostAsync("/api/v1/packages", Packages.Json(package));

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
    }

    [Fact]
    public async Task Answers_413_for_an_undeclared_length_over_1_MiB()
    {
        var content = new StreamContent(new MemoryStream(new byte[2 * 1024 * 1024]));
        content.Headers.ContentType = new("application/json");
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/v1/packages") { Content = content };
        request.Headers.TransferEncodingChunked = true;

        var response = await Submitter().SendAsync(request);

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
    }

    [Fact]
    public async Task Answers_415_for_a_body_that_is_not_json()
    {
        var response = await Submitter().PostAsync("/api/v1/packages", new StringContent("reference=x", Encoding.UTF8, "text/plain"));

        Assert.Equal(HttpStatusCode.UnsupportedMediaType, response.StatusCode);
    }

    [Fact]
    public async Task Refuses_a_member_name_given_twice_naming_it_and_keeps_nothing()
    {
        // One parser would decide on the last classification, another downstream read the first (I-JSON, RFC 7493).
        var json = Packages.Example().ToJsonString();
        var twice = "{\"classification\":\"SECRET\"," + json[1..];
        Assert.Contains("\"classification\":\"OFFICIAL-SENSITIVE\"", twice, StringComparison.Ordinal);

        var response = await Submitter().PostAsync("/api/v1/packages", new StringContent(twice, Encoding.UTF8, "application/json"));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var errors = (await response.Content.ReadFromJsonAsync<JsonObject>())!["errors"]!.AsObject();
        Assert.Contains("more than once", (string)errors["classification"]![0]!, StringComparison.Ordinal);

        var nested = Packages.Example();
        var subject = nested["subjects"]![0]!.AsObject().ToJsonString();
        var nestedTwice = nested.ToJsonString().Replace(subject, "{\"name\":\"Other Person\"," + subject[1..], StringComparison.Ordinal);
        var inner = await Submitter().PostAsync("/api/v1/packages", new StringContent(nestedTwice, Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.BadRequest, inner.StatusCode);
        Assert.NotNull((await inner.Content.ReadFromJsonAsync<JsonObject>())!["errors"]!["subjects[0].name"]);

        await using var scope = _factory.Services.CreateAsyncScope();
        Assert.Empty(await scope.ServiceProvider.GetRequiredService<GatewayDb>().Submissions.ToListAsync());
    }

    [Theory]
    [InlineData("application/json; charset=iso-8859-1")]
    [InlineData("application/json; charset=utf-16")]
    public async Task Answers_415_for_a_charset_other_than_utf8(string contentType)
    {
        var content = new ByteArrayContent(Encoding.UTF8.GetBytes(Packages.Example().ToJsonString()));
        content.Headers.TryAddWithoutValidation("Content-Type", contentType);

        var response = await Submitter().PostAsync("/api/v1/packages", content);

        Assert.Equal(HttpStatusCode.UnsupportedMediaType, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType!.MediaType);
    }

    [Fact]
    public async Task Answers_401_without_a_token_and_403_without_the_role()
    {
        var anonymous = await _factory.CreateClient().PostAsync("/api/v1/packages", Packages.Json(Packages.Example()));
        var reader = await _factory.ClientFor("rocu-wm", "Feed.Read").PostAsync("/api/v1/packages", Packages.Json(Packages.Example()));

        Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, reader.StatusCode);
        await using var scope = _factory.Services.CreateAsyncScope();
        Assert.Empty(await scope.ServiceProvider.GetRequiredService<GatewayDb>().Submissions.ToListAsync());
    }

    [Fact]
    public async Task Shows_a_package_to_its_originator_only()
    {
        var submitted = await Submitter().PostAsync("/api/v1/packages", Packages.Json(Packages.Example()));
        var location = submitted.Headers.Location!.OriginalString;

        var own = await _factory.ClientFor("rocu-wm", "Packages.Submit").GetAsync(location);
        var other = await _factory.ClientFor("wmp", "Packages.Submit").GetAsync(location);

        Assert.Equal(HttpStatusCode.OK, own.StatusCode);
        var status = await own.Content.ReadFromJsonAsync<JsonObject>();
        Assert.Equal("ROCUWM-2026-000123", (string)status!["reference"]!);
        Assert.Equal(["bcc-childrens", "wmp"], status["recipients"]!.AsArray().Select(r => (string)r!["partner"]!));
        Assert.Equal("pending", (string)status["recipients"]![0]!["delivery"]!["state"]!);
        Assert.Equal(HttpStatusCode.NotFound, other.StatusCode);
    }

    [Fact]
    public async Task Simulates_the_domain_example_without_side_effects()
    {
        var response = await Submitter().PostAsync("/api/v1/simulations?at=2026-11-25T12:00:00Z", Packages.Json(Packages.Example()));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var document = await response.Content.ReadFromJsonAsync<JsonObject>();
        Assert.StartsWith("sha256:", (string)document!["policyVersion"]!, StringComparison.Ordinal);
        var decisions = document["decisions"]!.AsArray();
        Assert.Equal("permit", (string)decisions[0]!["outcome"]!);
        Assert.Equal("ISA-BCC-003", (string)decisions[0]!["agreement"]!);
        Assert.Equal("deny", (string)decisions[1]!["outcome"]!);
        var harness = _factory.Services.GetRequiredService<ITestHarness>();
        Assert.Empty(harness.Published.Select<PackageSubmitted>());
    }

    [Fact]
    public async Task Refuses_a_malformed_simulation_instant()
    {
        var response = await Submitter().PostAsync("/api/v1/simulations?at=yesterday", Packages.Json(Packages.Example()));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var errors = (await response.Content.ReadFromJsonAsync<JsonObject>())!["errors"]!.AsObject();
        Assert.Contains("at", errors.Select(e => e.Key));
    }

    [Fact]
    public async Task Publishes_the_broker_keys_to_anyone()
    {
        var response = await _factory.CreateClient().GetAsync("/.well-known/jwks.json");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var keys = (await response.Content.ReadFromJsonAsync<JsonObject>())!["keys"]!.AsArray();
        Assert.NotEmpty(keys);
        Assert.All(keys, k => Assert.Null(k!["d"]));
    }
}

public sealed class SubmitTestsOnSqlite() : SubmitTests(StoreKind.Sqlite);

public sealed class SubmitTestsOnPostgreSql() : SubmitTests(StoreKind.PostgreSql);
