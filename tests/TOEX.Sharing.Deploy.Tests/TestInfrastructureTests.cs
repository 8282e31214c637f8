using System.Net.Sockets;
using System.Text;
using TOEX.Sharing.Testing;

namespace TOEX.Sharing.Deploy.Tests;

/// <summary>
/// The test fixtures' choice between containers (a Docker engine answers) and the private node and cluster scripts:
/// made against a socket that does not exist, a stand-in engine on a unix socket that answers <c>/_ping</c>, one
/// that answers something else, and the override.
/// </summary>
public sealed class TestInfrastructureTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("toex-docker-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    /// <summary>A stand-in engine: a unix socket that answers every request with <paramref name="answer"/>.</summary>
    private (string Endpoint, Socket Listener) Engine(string answer)
    {
        var path = Path.Combine(_folder, $"docker-{Guid.NewGuid():N}.sock");
        var listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        listener.Bind(new UnixDomainSocketEndPoint(path));
        listener.Listen();
        _ = Task.Run(async () =>
        {
            while (true)
            {
                using var client = await listener.AcceptAsync();
                await client.ReceiveAsync(new byte[4096]);
                await client.SendAsync(Encoding.ASCII.GetBytes(answer));
                client.Shutdown(SocketShutdown.Both);
            }
        });
        return ($"unix://{path}", listener);
    }

    [Fact]
    public async Task No_engine_at_the_docker_endpoint_means_the_private_node_and_cluster()
    {
        var choice = await TestInfrastructure.ChooseAsync($"unix://{Path.Combine(_folder, "absent.sock")}", containers: null);

        Assert.Equal(InfrastructureSource.PrivateProcesses, choice.Source);
        Assert.Contains("no such socket", choice.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_engine_that_answers_its_ping_means_containers_unless_told_never()
    {
        var (endpoint, listener) = Engine("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n\r\nOK");
        using (listener)
        {
            Assert.Equal(InfrastructureSource.Containers, (await TestInfrastructure.ChooseAsync(endpoint, containers: null)).Source);
            Assert.Equal(InfrastructureSource.PrivateProcesses, (await TestInfrastructure.ChooseAsync(endpoint, containers: "never")).Source);
        }
    }

    [Fact]
    public async Task Something_else_on_the_socket_is_not_an_engine()
    {
        var (endpoint, listener) = Engine("HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n");
        using (listener)
        {
            var choice = await TestInfrastructure.ChooseAsync(endpoint, containers: null);
            Assert.Equal(InfrastructureSource.PrivateProcesses, choice.Source);
            Assert.Contains("did not answer /_ping", choice.Reason, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task The_run_chooses_once()
    {
        Assert.Same(await TestInfrastructure.ChoiceAsync(), await TestInfrastructure.ChoiceAsync());
    }
}
