using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace TOEX.Sharing.Audit.Console;

/// <summary>The IG console: Razor Pages served by the audit service, its sign-in, and the headers every page carries.</summary>
public static class ConsoleExtensions
{
    public static WebApplicationBuilder AddConsole(this WebApplicationBuilder builder)
    {
        builder.AddConsoleAuthentication();
        builder.Services.AddRazorPages(pages =>
        {
            pages.RootDirectory = "/Console/Pages";
            pages.Conventions.AuthorizeFolder("/", ConsoleAuthentication.Policy);
            pages.Conventions.AllowAnonymousToPage("/SignIn");
            pages.Conventions.AllowAnonymousToPage("/SignInWith");
            pages.Conventions.AllowAnonymousToPage("/Status");
        }).AddMvcOptions(mvc => mvc.Filters.Add(new AutoValidateAntiforgeryTokenAttribute()));
        builder.Services.AddScoped<ConsoleLedger>();
        builder.Services.AddScoped<PendingReferrals>();
        builder.Services.AddScoped<ReferralPreviews>();
        builder.Services.AddHttpClient(GatewayClient.Name, http => http.Timeout = TimeSpan.FromSeconds(30));
        builder.Services.AddScoped<GatewayClient>();
        return builder;
    }

    /// <summary>Static assets (the console's stylesheet; no script, no font, nothing from elsewhere) and the pages.</summary>
    public static WebApplication UseConsoleAssets(this WebApplication app)
    {
        app.Use(async (context, next) =>
        {
            if (!context.Request.Path.StartsWithSegments("/api") && !context.Request.Path.StartsWithSegments("/.well-known"))
            {
                var headers = context.Response.Headers;
                headers.ContentSecurityPolicy = "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";
                headers.XContentTypeOptions = "nosniff";
                headers["Referrer-Policy"] = "no-referrer";
                headers["X-Frame-Options"] = "DENY";
                headers["Cross-Origin-Opener-Policy"] = "same-origin";
                if (!context.Request.Path.StartsWithSegments("/console.css"))
                {
                    headers.CacheControl = "no-store";
                }
            }
            await next();
        });
        app.UseStaticFiles();
        // A console page's error status gets an HTML page (the API keeps its problem details).
        app.UseWhen(context => !context.Request.Path.StartsWithSegments("/api") && !context.Request.Path.StartsWithSegments("/.well-known")
                && !context.Request.Path.StartsWithSegments("/health") && !context.Request.Path.StartsWithSegments("/alive"),
            console => console.UseStatusCodePagesWithReExecute("/status/{0}"));
        // Routing after the re-execution, so a re-executed request is routed to its status page.
        app.UseRouting();
        return app;
    }

    public static WebApplication MapConsole(this WebApplication app)
    {
        app.MapRazorPages();
        return app;
    }
}
