using TOEX.Sharing.Gateway;
using TOEX.Sharing.Gateway.Apis;
using TOEX.Sharing.Policy;
using TOEX.Sharing.ServiceDefaults;

var builder = WebApplication.CreateBuilder(args);

builder.AddServiceDefaults();
try
{
    builder.AddGateway();
}
catch (PolicyValidationException e)
{
    // A broken policy set stops the service at start, each problem as file:line: message.
    await Console.Error.WriteLineAsync(e.Message);
    return 1;
}

var app = builder.Build();
await app.InitialiseStoreAsync();

app.UseExceptionHandler();
app.UseStatusCodePages();
app.UseAuthentication();
app.UseToexLimits();
app.UseAuthorization();

app.MapDefaultEndpoints();
app.MapToexOpenApi();
app.MapJwksApi();
app.MapPackagesApi();
app.MapFeedApi();
app.MapReleasesApi();
app.MapDeliveriesApi();
app.MapPartnerKeysApi();

await app.RunAsync();
return 0;

public partial class Program;
