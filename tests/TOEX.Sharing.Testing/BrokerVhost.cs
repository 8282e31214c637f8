namespace TOEX.Sharing.Testing;

/// <summary>
/// A virtual host on a test broker and how to reach it. <see cref="Name"/> and
/// <see cref="VirtualHost"/> are the same string: the latter reads naturally next to
/// MassTransit's <c>h.VirtualHost</c> or RabbitMQ.Client's <c>ConnectionFactory.VirtualHost</c>.
/// </summary>
/// <param name="Name">The virtual host's name.</param>
/// <param name="AmqpUri"><c>amqp://user:pass@host:port/vhost</c>, every part URL-encoded.</param>
/// <param name="Host">Broker host name or address.</param>
/// <param name="Port">AMQP port.</param>
/// <param name="Username">A user with configure, write and read permissions on the virtual host.</param>
/// <param name="Password">That user's password.</param>
public sealed record BrokerVhost(string Name, Uri AmqpUri, string Host, int Port, string Username, string Password)
{
    /// <summary>The virtual host's name (same as <see cref="Name"/>).</summary>
    public string VirtualHost => Name;

    /// <summary>Describes the virtual host without its password.</summary>
    public override string ToString() => $"vhost '{Name}' on {Host}:{Port} as {Username}";
}
