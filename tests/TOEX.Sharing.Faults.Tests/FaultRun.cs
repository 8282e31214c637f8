using System.Globalization;
using TOEX.Sharing.Testing;

[assembly: CollectionBehavior(DisableTestParallelization = true)]

namespace TOEX.Sharing.Faults.Tests;

/// <summary>
/// The size of a fault run: short (CI) unless <c>TOEX_FAULTS_LONG=1</c>, which runs the long variants (more packages,
/// more faults). The README gives the one command that runs them.
/// </summary>
public static class FaultRun
{
    public const string LongVariable = "TOEX_FAULTS_LONG";

    public static bool IsLong => Environment.GetEnvironmentVariable(LongVariable) == "1";

    /// <summary><paramref name="shortRun"/> in CI, <paramref name="longRun"/> with <c>TOEX_FAULTS_LONG=1</c>.</summary>
    public static int Size(int shortRun, int longRun) => IsLong ? longRun : shortRun;

    public static string Variant => IsLong ? "long" : "short";

    /// <summary>A private broker node of this run's own, with a virtual host for the services, each as its own user.</summary>
    public static async Task<(RabbitMqBroker Broker, BrokerVhost Vhost)> PrivateBrokerAsync()
    {
        var broker = await RabbitMqBroker.StartPrivateNodeAsync();
        return (broker, await broker.CreateVirtualHostAsync("faults"));
    }

    /// <summary>Waits until <paramref name="condition"/> holds, failing with the services' output.</summary>
    public static Task UntilAsync(FaultServices stack, Func<Task<bool>> condition, TimeSpan timeout, string what) =>
        UntilAsync(stack, condition, timeout, () => what);

    /// <inheritdoc cref="UntilAsync(FaultServices, Func{Task{bool}}, TimeSpan, string)"/>
    public static Task UntilAsync(FaultServices stack, Func<Task<bool>> condition, TimeSpan timeout, Func<string> what) =>
        Eventually.UntilAsync(condition, timeout, () => $"Timed out ({timeout.TotalSeconds:0} s) waiting for {what()}.\n{stack.RecentOutput()}",
            poll: TimeSpan.FromMilliseconds(100));

    public static string Seconds(TimeSpan span) => span.TotalSeconds.ToString("0.0", CultureInfo.InvariantCulture) + " s";
}
