using TOEX.Sharing.Policy;
using TOEX.Sharing.PolicyDecision;
using TOEX.Sharing.ServiceDefaults;

var builder = WebApplication.CreateBuilder(args);

builder.AddServiceDefaults();
try
{
    builder.AddPolicyDecision();
}
catch (PolicyValidationException e)
{
    // A broken policy set stops the service at start, each problem as file:line: message.
    await Console.Error.WriteLineAsync(e.Message);
    return 1;
}

// Its health endpoints listen on loopback port 5082 unless told where (ASPNETCORE_URLS or ASPNETCORE_HTTP_PORTS).
if (string.IsNullOrEmpty(builder.Configuration[WebHostDefaults.ServerUrlsKey]) && string.IsNullOrEmpty(builder.Configuration["http_ports"]))
{
    builder.WebHost.UseUrls("http://127.0.0.1:5082");
}

var app = builder.Build();

// No API: only /health (readiness, the bus included) and /alive (liveness), for probes.
app.MapDefaultEndpoints();

await app.RunAsync();
return 0;

public partial class Program;
