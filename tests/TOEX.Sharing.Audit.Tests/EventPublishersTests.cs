using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using MassTransit;
using TOEX.Sharing.Audit.Consumers;
using TOEX.Sharing.Testing;

namespace TOEX.Sharing.Audit.Tests;

/// <summary>The ledger keys every event by its publisher: the table says what the broker's permissions enforce.</summary>
public sealed class EventPublishersTests
{
    private static readonly JsonArray Permissions = JsonNode.Parse(
        File.ReadAllText(Path.Combine(RepoPaths.Root, "deploy", "rabbitmq", "definitions.json")))!["permissions"]!.AsArray();

    private static IEnumerable<string> WritersOf(Type message) => Permissions
        .Where(p => Regex.IsMatch($"TOEX.Sharing.Contracts:{message.Name}", (string)p!["write"]!))
        .Select(p => (string)p!["user"]!);

    [Fact]
    public void Each_event_is_written_by_its_publisher_alone_on_the_broker()
    {
        foreach (var (type, publisher) in EventPublishers.ByType)
        {
            Assert.True(WritersOf(type).SequenceEqual([publisher]),
                $"{type.Name}: EventPublishers says {publisher}; definitions.json lets [{string.Join(", ", WritersOf(type))}] write it.");
        }
    }

    [Fact]
    public void Every_event_an_audit_consumer_records_has_a_publisher()
    {
        var consumed = typeof(EventPublishers).Assembly.GetTypes()
            .SelectMany(t => t.GetInterfaces())
            .Where(i => i.IsGenericType && i.GetGenericTypeDefinition() == typeof(IConsumer<>))
            .Select(i => i.GetGenericArguments()[0])
            .Distinct()
            .ToList();

        Assert.NotEmpty(consumed);
        Assert.All(consumed, type => Assert.True(EventPublishers.ByType.ContainsKey(type), $"{type.Name} has no publisher in EventPublishers."));
    }
}
