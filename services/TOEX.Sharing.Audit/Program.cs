using TOEX.Sharing.Audit.Referrals;
using TOEX.Sharing.Audit;
using TOEX.Sharing.Audit.Apis;
using TOEX.Sharing.Audit.Console;
using TOEX.Sharing.ServiceDefaults;

var builder = WebApplication.CreateBuilder(args);

builder.AddServiceDefaults();
builder.AddAudit();
builder.AddConsole();

var app = builder.Build();
await app.InitialiseStoreAsync();

app.UseExceptionHandler();
app.UseStatusCodePages();
app.UseConsoleAssets();
app.UseAuthentication();
app.UseToexLimits();
app.UseAuthorization();

app.MapDefaultEndpoints();
app.MapToexOpenApi();
app.MapAuditApi();
app.MapReferralsApi().RefuseUnknownQueryParameters();
app.MapAgreementsApi();
app.MapJwksApi();
app.MapConsole();

await app.RunAsync();

public partial class Program;
