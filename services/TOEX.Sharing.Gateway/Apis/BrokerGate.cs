using System.Globalization;
using Microsoft.Extensions.Options;
using TOEX.Sharing.ServiceDefaults;

namespace TOEX.Sharing.Gateway.Apis;

/// <summary>
/// A submission needs the broker's confirm before it can be answered 202. While the broker is known to be unable to
/// give one (down, unreachable, blocked by a resource alarm: <see cref="BrokerStatus"/>), a submission is refused at
/// once with 503 and <c>Retry-After</c>, saying why, instead of being held for the publish timeout; nothing is recorded.
/// </summary>
public sealed class BrokerGate(BrokerStatus broker, IOptions<GatewayOptions> options) : IEndpointFilter
{
    public async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        if (broker.CanPublish)
        {
            return await next(context);
        }
        ToexTelemetry.Submissions.Add(1, new KeyValuePair<string, object?>("result", "broker-unavailable"));
        context.HttpContext.Response.Headers.RetryAfter = options.Value.RetryAfterSeconds.ToString(CultureInfo.InvariantCulture);
        return Problems.Status(StatusCodes.Status503ServiceUnavailable, "broker-unavailable",
            "The message broker cannot take the submission now; nothing was recorded. Try again later.", broker.Reason);
    }
}
