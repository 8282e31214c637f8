using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using TOEX.Sharing.Sealing;

namespace TOEX.Sharing.KeyCustody;

public static class KeyCustodyRegistration
{
    /// <summary>
    /// Binds and validates at start the <c>KeyCustody</c> settings of the purposes this service uses, and registers
    /// <see cref="KeyCustodies"/>, where the service's key wiring takes each purpose's keys from.
    /// </summary>
    public static IHostApplicationBuilder AddKeyCustody(this IHostApplicationBuilder builder, params KeyPurpose[] used)
    {
        builder.Services.AddOptions<KeyCustodyOptions>().BindConfiguration(KeyCustodyOptions.Section).ValidateOnStart();
        builder.Services.AddSingleton<IValidateOptions<KeyCustodyOptions>>(new KeyCustodyOptionsValidator(builder.Environment.IsProduction(), used));
        builder.Services.AddSingleton(services => new KeyCustodies(services.GetRequiredService<IOptions<KeyCustodyOptions>>(),
            builder.Environment.IsProduction(), services.GetRequiredService<TimeProvider>()));
        builder.Services.AddHostedService<KeysAtStart>();
        return builder;
    }

    /// <summary>
    /// Opens every signing key the service registered when it starts: a module or vault that cannot be reached, a wrong
    /// PIN or a missing key stops the service at start, and a first key (where allowed) is made before any request.
    /// </summary>
    private sealed class KeysAtStart(IEnumerable<IKeyRing> rings, IServiceProvider services) : IHostedService
    {
        public Task StartAsync(CancellationToken cancellationToken)
        {
            foreach (var ring in rings)
            {
                _ = ring.Current;
            }
            _ = services.GetService<WebhookSigningKey>()?.KeyId;
            _ = services.GetService<SubjectBlindIndex>();
            return Task.CompletedTask;
        }

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }
}
