using System.Text.Json;

namespace TOEX.Sharing.Testing;

/// <summary>A service's own broker user and its permission patterns, as <c>deploy/rabbitmq/definitions.json</c> gives them.</summary>
public sealed record ServiceBrokerUser(string Name, string Configure, string Write, string Read);

/// <summary>
/// Reads <c>deploy/rabbitmq/definitions.json</c>: the users the services connect as, each confined to its
/// own queues and exchanges. Tests grant exactly these permissions on their own virtual hosts, so a service
/// that needs more than the file allows fails its tests with ACCESS_REFUSED rather than in a deployment.
/// </summary>
public static class BrokerDefinitions
{
    public static string Path => System.IO.Path.Combine(RepoPaths.Root, "deploy", "rabbitmq", "definitions.json");

    private static readonly Lazy<IReadOnlyList<ServiceBrokerUser>> Users = new(Load);

    public static IReadOnlyList<ServiceBrokerUser> ServiceUsers => Users.Value;

    public static ServiceBrokerUser For(string service) =>
        ServiceUsers.SingleOrDefault(user => user.Name == service)
        ?? throw new ArgumentException($"{Path} defines no broker user '{service}' (it has: {string.Join(", ", ServiceUsers.Select(u => u.Name))}).", nameof(service));

    private static List<ServiceBrokerUser> Load()
    {
        using var document = JsonDocument.Parse(File.ReadAllText(Path));
        var root = document.RootElement;
        var names = root.GetProperty("users").EnumerateArray().Select(user => user.GetProperty("name").GetString()!).ToList();
        return [.. names.Select(name =>
        {
            var permission = root.GetProperty("permissions").EnumerateArray().Single(p => p.GetProperty("user").GetString() == name);
            return new ServiceBrokerUser(name, permission.GetProperty("configure").GetString()!,
                permission.GetProperty("write").GetString()!, permission.GetProperty("read").GetString()!);
        })];
    }
}
