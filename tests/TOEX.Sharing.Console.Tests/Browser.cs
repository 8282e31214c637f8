using System.Text.Json;
using Microsoft.Playwright;
using TOEX.Sharing.Testing;

namespace TOEX.Sharing.Console.Tests;

/// <summary>What the tests do in the browser: sign in on the provider's form, give a justification, look, check accessibility.</summary>
public static class Browser
{
    /// <summary>Opens the console, is sent to sign in, signs in at the identity provider's login form, and lands back.</summary>
    public static async Task SignInAsync(IPage page, string username, string path = "/")
    {
        try
        {
            await SignInOnceAsync(page, username, path);
        }
        catch (TimeoutException e)
        {
            await ScreenshotAsync(page, "failed-sign-in");
            throw new TimeoutException($"Sign-in stuck at {page.Url}: {await page.Locator("body").InnerTextAsync()}", e);
        }
    }

    private static async Task SignInOnceAsync(IPage page, string username, string path)
    {
        await page.GotoAsync(path);
        Assert.Contains("/signin", page.Url, StringComparison.Ordinal);
        await page.GetByRole(AriaRole.Link, new() { Name = $"Sign in with {ConsoleServices.ProviderName}" }).ClickAsync();
        await page.GetByLabel("Username").FillAsync(username);
        await page.GetByLabel("Password").FillAsync(ConsoleServices.Password);
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign in" }).ClickAsync();
        await page.WaitForURLAsync(url => !url.Contains("/signin", StringComparison.Ordinal) && !url.Contains("/interaction/", StringComparison.Ordinal)
            && !url.Contains("/auth", StringComparison.Ordinal));
    }

    /// <summary>Gives the session's justification if the page asks for one.</summary>
    public static async Task JustifyAsync(IPage page, string why = "Subject access request SAR-2026-114")
    {
        if (page.Url.Contains("/justify", StringComparison.Ordinal))
        {
            await page.GetByLabel("Justification").FillAsync(why);
            await page.GetByRole(AriaRole.Button, new() { Name = "Continue" }).ClickAsync();
            await page.WaitForURLAsync(url => !url.Contains("/justify", StringComparison.Ordinal));
        }
    }

    /// <summary>A full-page screenshot under the test output and the screenshots folder, named <paramref name="name"/>.png.</summary>
    public static async Task ScreenshotAsync(IPage page, string name)
    {
        var bytes = await page.ScreenshotAsync(new PageScreenshotOptions { FullPage = true });
        var output = Path.Combine(AppContext.BaseDirectory, "screenshots");
        Directory.CreateDirectory(output);
        await File.WriteAllBytesAsync(Path.Combine(output, name + ".png"), bytes);
        await File.WriteAllBytesAsync(Path.Combine(ConsoleServices.ScreenshotFolder, name + ".png"), bytes);
    }

    /// <summary>axe-core (npm) on the page: every violation of impact serious or critical, as "rule: target" lines.</summary>
    public static async Task<IReadOnlyList<string>> SeriousViolationsAsync(IPage page)
    {
        await NodeInterop.EnsureInstalledAsync();
        await page.AddScriptTagAsync(new PageAddScriptTagOptions { Path = Path.Combine(NodeInterop.Directory, "node_modules", "axe-core", "axe.min.js") });
        var json = await page.EvaluateAsync<string>("""
            async () => {
              const result = await axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa', 'best-practice'] } });
              return JSON.stringify(result.violations.filter(v => v.impact === 'serious' || v.impact === 'critical')
                .flatMap(v => v.nodes.map(n => `${v.id} (${v.impact}): ${n.target.join(' ')} — ${v.help}`)));
            }
            """);
        return JsonSerializer.Deserialize<List<string>>(json)!;
    }
}
