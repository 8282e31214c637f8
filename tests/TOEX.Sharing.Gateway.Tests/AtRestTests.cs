using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text.Json.Nodes;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using TOEX.Sharing.Gateway.Data;

namespace TOEX.Sharing.Gateway.Tests;

/// <summary>Issue 15, item 3: package bodies in the gateway's store are encrypted under a per-package data key wrapped by custody.</summary>
public sealed class AtRestTests : IDisposable
{
    private readonly GatewayFactory _factory = new();

    public void Dispose() => _factory.Dispose();

    [Fact]
    public async Task The_store_holds_no_subject_or_narrative_and_the_body_opens_only_for_its_own_package()
    {
        var package = Packages.Example();
        var response = await _factory.ClientFor("rocu-wm", "Packages.Submit").PostAsync("/api/v1/packages", Packages.Json(package));
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var id = Guid.Parse((string)(await response.Content.ReadFromJsonAsync<JsonObject>())!["id"]!);

        await using var scope = _factory.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<GatewayDb>();
        var stored = await db.Submissions.Where(s => s.Id == id).Select(s => s.PackageJson).SingleAsync();
        Assert.True(PackageVault.IsProtected(stored));
        foreach (var clear in new[] { "Jane Example", "John Example", "2010-03-14", "10/123456X", (string)package["summary"]!, (string)package["body"]! })
        {
            Assert.DoesNotContain(clear, stored, StringComparison.Ordinal);
        }

        var vault = _factory.Services.GetRequiredService<PackageVault>();
        Assert.Contains("Jane Example", vault.Open(id, stored), StringComparison.Ordinal);
        // Moved onto another package's row, or changed by one character, it does not open.
        Assert.ThrowsAny<CryptographicException>(() => vault.Open(Guid.NewGuid(), stored));
        var altered = stored[..^3] + (stored[^3] == 'A' ? 'B' : 'A') + stored[^2..];
        Assert.ThrowsAny<CryptographicException>(() => vault.Open(id, altered));
        // Each package has its own data key: the same body encrypts differently.
        Assert.NotEqual(vault.Protect(id, "{}"), vault.Protect(id, "{}"));
    }

    [Fact]
    public async Task A_store_written_before_encryption_at_rest_is_encrypted_at_start()
    {
        _ = _factory.Server;
        await using var scope = _factory.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<GatewayDb>();
        var body = Packages.Example().ToJsonString();
        var id = Guid.NewGuid();
        db.Submissions.Add(new Submission
        {
            Id = id, Reference = "ROCUWM-2026-009999", Originator = "rocu-wm", ContentHash = "sha256:00", SubmittedBy = "rocu-wm/old",
            PackageJson = body, Status = "submitted",
        });
        await db.SaveChangesAsync();
        var vault = _factory.Services.GetRequiredService<PackageVault>();
        Assert.Equal(body, vault.Open(id, body)); // read as it was until encrypted

        await Extensions.EncryptBodiesAtRestAsync(db, vault);

        db.ChangeTracker.Clear();
        var stored = await db.Submissions.Where(s => s.Id == id).Select(s => s.PackageJson).SingleAsync();
        Assert.True(PackageVault.IsProtected(stored));
        Assert.DoesNotContain("Jane Example", stored, StringComparison.Ordinal);
        Assert.Equal(body, vault.Open(id, stored));
    }
}
