using TOEX.Sharing.Audit.Referrals;
using TOEX.Sharing.Audit;
using TOEX.Sharing.Audit.Apis;
using TOEX.Sharing.ServiceDefaults;

var builder = WebApplication.CreateBuilder(args);

builder.AddServiceDefaults();
builder.AddAudit();

var app = builder.Build();
await app.InitialiseStoreAsync();

app.UseExceptionHandler();
app.UseStatusCodePages();
app.UseAuthentication();
app.UseToexLimits();
app.UseAuthorization();

app.MapDefaultEndpoints();
app.MapAuditApi();
app.MapReferralsApi().RefuseUnknownQueryParameters();
app.MapAgreementsApi();
app.MapJwksApi();

await app.RunAsync();

public partial class Program;
