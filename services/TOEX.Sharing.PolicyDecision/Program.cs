using TOEX.Sharing.Policy;
using TOEX.Sharing.PolicyDecision;
using TOEX.Sharing.ServiceDefaults;

var builder = Host.CreateApplicationBuilder(args);

builder.AddServiceDefaults();
try
{
    builder.AddPolicyDecision();
}
catch (PolicyValidationException e)
{
    // A broken policy set stops the service at start, each problem as file:line: message.
    Console.Error.WriteLine(e.Message);
    return 1;
}

var host = builder.Build();
await host.RunAsync();
return 0;
