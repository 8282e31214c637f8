using Testcontainers.PostgreSql;
using Testcontainers.RabbitMq;

namespace TOEX.Sharing.Testing;

/// <summary>
/// RabbitMQ (with its management API, so each run gets its own virtual hosts and service users) and PostgreSQL as
/// containers for a run on a machine with a Docker engine (<see cref="TestInfrastructure"/>). Testcontainers removes
/// them when the test process ends.
/// </summary>
internal static class Containers
{
    public const string RabbitMqImage = "rabbitmq:3.13-management";
    public const string PostgresImage = "postgres:16";
    private const ushort ManagementPort = 15672;

    /// <summary>Starts a broker; returns its AMQP URL and its management API's URL (both with the admin user).</summary>
    public static async Task<(Uri Amqp, string Management)> StartRabbitMqAsync(CancellationToken cancellationToken)
    {
        var container = new RabbitMqBuilder(RabbitMqImage).WithUsername("toex").WithPassword("toex-test").Build();
        await container.StartAsync(cancellationToken);
        var amqp = new Uri(container.GetConnectionString());
        var management = $"http://toex:toex-test@{container.Hostname}:{container.GetMappedPublicPort(ManagementPort)}/";
        return (amqp, management);
    }

    /// <summary>Starts a PostgreSQL server; returns a connection string for its superuser (who may create databases).</summary>
    public static async Task<string> StartPostgresAsync(CancellationToken cancellationToken)
    {
        var container = new PostgreSqlBuilder(PostgresImage).Build();
        await container.StartAsync(cancellationToken);
        return container.GetConnectionString();
    }
}
