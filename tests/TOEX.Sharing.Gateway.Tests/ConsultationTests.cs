using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using MassTransit.Testing;
using Microsoft.Extensions.DependencyInjection;
using TOEX.Sharing.Contracts;
using TOEX.Sharing.Sealing;

namespace TOEX.Sharing.Gateway.Tests;

/// <summary>
/// DPA 2018 s62 at the gateway: every consultation of personal data (a feed read, a package status read) is
/// recorded for the audit ledger, and subjects leave the gateway only as keyed blind indexes.
/// </summary>
public sealed class ConsultationTests : IAsyncLifetime
{
    private readonly GatewayFactory _factory = new();
    private LocalKeyRing _decisionKeys = null!;

    public Task InitializeAsync()
    {
        _decisionKeys = _factory.TrustDecisionKeys();
        _factory.RegisterPartnerKey("bcc-childrens");
        return Task.CompletedTask;
    }

    public Task DisposeAsync()
    {
        _decisionKeys.Dispose();
        _factory.Dispose();
        return Task.CompletedTask;
    }

    private ITestHarness Harness => _factory.Services.GetRequiredService<ITestHarness>();

    private async Task<ConsultationRecorded> PublishedAsync(Func<ConsultationRecorded, bool> match)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        Assert.True(await Harness.Published.AnyEventAsync(match, timeout.Token));
        return Harness.Published.Events<ConsultationRecorded>().First(match);
    }

    private async Task<Guid> ReleasedAsync()
    {
        var (id, submitted) = await _factory.SubmitAsync(Packages.Example());
        await _factory.DeliverAsync(new SharingDecided
        {
            PackageId = id,
            DecisionJws = new DecisionSigner(_decisionKeys.Current).Sign(GatewayFactory.Decide(submitted)),
        });
        return id;
    }

    [Fact]
    public async Task Publishes_the_subjects_only_as_blind_indexes_under_the_configured_key()
    {
        var package = Packages.Example();

        var (_, submitted) = await _factory.SubmitAsync(package);

        var blindIndex = SubjectBlindIndex.Open(_factory.BlindIndexKeyPath, create: false);
        var subjects = package["subjects"]!.Deserialize<List<Subject>>(ToexJson.Options)!;
        Assert.Equal(blindIndex.Of(subjects), submitted.SubjectIndexes);
        Assert.Contains(blindIndex.NameAndDateOfBirth("jane example", new DateOnly(2010, 3, 14)), submitted.SubjectIndexes);
        Assert.Contains(blindIndex.Pnc("2010/0123456X")!, submitted.SubjectIndexes);
        var wire = ToexJson.Serialize(submitted);
        foreach (var secret in new[] { "Jane", "John", "Example", "123456X" })
        {
            Assert.DoesNotContain(secret, wire, StringComparison.OrdinalIgnoreCase);
        }
    }

    [Fact]
    public async Task Records_a_feed_read_with_who_what_items_and_cursor_range()
    {
        var id = await ReleasedAsync();
        var reader = _factory.ClientAs("bcc-childrens", "case-worker-7", "Feed.Read");

        var page = await reader.GetFromJsonAsync<JsonObject>("/api/v1/feed?after=0&limit=10");

        var item = Assert.Single(page!["items"]!.AsArray())!;
        var recorded = await PublishedAsync(c => c.Kind == "feed-read");
        Assert.Equal("bcc-childrens/case-worker-7", recorded.Actor);
        Assert.Equal("bcc-childrens", recorded.Organisation);
        Assert.Equal(Apis.FeedApi.DefaultJustification, recorded.Justification);
        var consulted = Assert.Single(recorded.Items);
        Assert.Equal((id, "rocu-wm", "bcc-childrens", "package"), (consulted.PackageId, consulted.Originator, consulted.Recipient, consulted.Kind));
        Assert.Equal(long.Parse((string)item["cursor"]!, System.Globalization.CultureInfo.InvariantCulture), consulted.Cursor);
        Assert.Equal("0", recorded.Request["after"]);
        Assert.Equal("10", recorded.Request["limit"]);
        Assert.Equal((string)page["next"]!, recorded.Request["next"]);
    }

    [Fact]
    public async Task Records_nothing_for_an_empty_feed_read()
    {
        var empty = await _factory.ClientFor("safe-haven", "Feed.Read").GetFromJsonAsync<JsonObject>("/api/v1/feed");
        await ReleasedAsync();
        await _factory.ClientFor("bcc-childrens", "Feed.Read").GetFromJsonAsync<JsonObject>("/api/v1/feed");

        Assert.Empty(empty!["items"]!.AsArray());
        var recorded = await PublishedAsync(c => c.Kind == "feed-read");
        Assert.Equal("bcc-childrens", recorded.Organisation);
        Assert.DoesNotContain(Harness.Published.Events<ConsultationRecorded>(), m => m.Organisation == "safe-haven");
    }

    [Fact]
    public async Task Records_a_package_status_read_with_the_callers_justification()
    {
        var (id, _) = await _factory.SubmitAsync(Packages.Example());
        var originator = _factory.ClientAs("rocu-wm", "analyst-9", "Packages.Submit");
        originator.DefaultRequestHeaders.Add("X-Justification", "Checking delivery before the strategy meeting");

        var response = await originator.GetAsync($"/api/v1/packages/{id}");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var recorded = await PublishedAsync(c => c.Kind == "package-status");
        Assert.Equal("rocu-wm/analyst-9", recorded.Actor);
        Assert.Equal("Checking delivery before the strategy meeting", recorded.Justification);
        Assert.Equal([id], recorded.Items.Select(i => i.PackageId));
        Assert.Equal("rocu-wm", recorded.Items[0].Originator);
    }

    [Theory]
    [InlineData("/api/v1/feed", "Feed.Read")]
    [InlineData("/api/v1/packages/{id}", "Packages.Submit")]
    public async Task Answers_400_naming_a_malformed_justification(string route, string role)
    {
        var (id, _) = await _factory.SubmitAsync(Packages.Example());
        var client = _factory.ClientFor(role == "Feed.Read" ? "bcc-childrens" : "rocu-wm", role);
        client.DefaultRequestHeaders.Add("X-Justification", new string('x', 501));

        var response = await client.GetAsync(route.Replace("{id}", id.ToString(), StringComparison.Ordinal));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var problem = (await response.Content.ReadFromJsonAsync<JsonObject>())!;
        Assert.Equal(["X-Justification"], problem["errors"]!.AsObject().Select(e => e.Key));
    }
}
