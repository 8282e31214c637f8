using System.Buffers.Text;
using System.Collections.Concurrent;
using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json.Nodes;
using Azure.Core.Pipeline;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using TOEX.Sharing.Testing;

namespace TOEX.Sharing.KeyCustody.Tests;

/// <summary>
/// A local HTTPS stand-in for the few Azure Key Vault key operations TOEX calls (REST API 7.4/7.5: create, get, list
/// versions, sign, wrapkey, unwrapkey), with the request and response shapes of the published reference: key bundles
/// with a JSON Web Key whose <c>kid</c> is the versioned key URL, <c>{alg, value}</c> bodies with base64url values,
/// <c>{"error":{code,message}}</c> errors, paged version lists with <c>nextLink</c>. It accepts only the bearer token its
/// App Service managed-identity endpoint (plain HTTP, like the real one) issued for the vault's resource. Its certificate
/// is self-signed; <see cref="Transport"/> trusts that one certificate only. Not a real vault: nothing here reached Azure.
/// </summary>
public sealed class KeyVaultStandIn : IAsyncDisposable
{
    public const string IdentityHeader = "stand-in-identity-header";
    private const string Resource = "https://vault.azure.net";

    private readonly WebApplication app;
    private readonly X509Certificate2 certificate;
    private readonly ConcurrentDictionary<string, List<Version>> keys = new(StringComparer.Ordinal);
    /// <summary>One token per test process: MSAL keeps a managed identity's token for the whole process, across stand-ins.</summary>
    private static readonly string Token = Base64Url.EncodeToString(RandomNumberGenerator.GetBytes(32));
    private long clock = 1_780_000_000;

    private KeyVaultStandIn(WebApplication app, X509Certificate2 certificate, Uri vault, Uri identityEndpoint)
    {
        this.app = app;
        this.certificate = certificate;
        VaultUri = vault;
        IdentityEndpoint = identityEndpoint;
    }

    public Uri VaultUri { get; }

    /// <summary>The App Service managed-identity endpoint (<c>IDENTITY_ENDPOINT</c>).</summary>
    public Uri IdentityEndpoint { get; }

    /// <summary>Requests that reached a key operation with a valid token, and requests refused for want of one.</summary>
    public int Authorised { get; private set; }

    public int Refused { get; private set; }

    /// <summary>An HTTP transport that trusts this stand-in's certificate and no other.</summary>
    public HttpPipelineTransport Transport => new HttpClientTransport(new HttpClientHandler
    {
        ServerCertificateCustomValidationCallback = (_, presented, _, _) => presented is not null && presented.RawData.AsSpan().SequenceEqual(certificate.RawData),
    });

    public static async Task<KeyVaultStandIn> StartAsync()
    {
        using var key = RSA.Create(2048);
        var request = new CertificateRequest("CN=127.0.0.1", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        var names = new SubjectAlternativeNameBuilder();
        names.AddIpAddress(IPAddress.Loopback);
        request.CertificateExtensions.Add(names.Build());
        using var created = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddHours(1));
        var certificate = X509CertificateLoader.LoadPkcs12(created.Export(X509ContentType.Pkcs12), null);

        var vaultPort = FreePort.Next();
        var identityPort = FreePort.Next(p => p != vaultPort);
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.Listen(IPAddress.Loopback, vaultPort, listen => listen.UseHttps(certificate));
            kestrel.Listen(IPAddress.Loopback, identityPort);
        });
        var app = builder.Build();
        var standIn = new KeyVaultStandIn(app, certificate, new Uri($"https://127.0.0.1:{vaultPort}/"), new Uri($"http://127.0.0.1:{identityPort}/msi/token"));
        standIn.Map(app, identityPort);
        await app.StartAsync();
        return standIn;
    }

    /// <summary>Moves the stand-in's clock (the <c>created</c> attribute of new versions).</summary>
    public void Advance(TimeSpan by) => Interlocked.Add(ref clock, (long)by.TotalSeconds);

    public async ValueTask DisposeAsync()
    {
        await app.StopAsync();
        await app.DisposeAsync();
        certificate.Dispose();
    }

    private void Map(WebApplication web, int identityPort)
    {
        // App Service managed identity (2019-08-01): GET ?resource=&api-version= with X-IDENTITY-HEADER.
        web.MapGet("/msi/token", (HttpContext http) =>
        {
            if (http.Connection.LocalPort != identityPort || http.Request.Headers["X-IDENTITY-HEADER"] != IdentityHeader)
            {
                return Results.Json(new JsonObject { ["error"] = "invalid_request" }, statusCode: 400);
            }
            var resource = (string?)http.Request.Query["resource"];
            if (resource?.TrimEnd('/') != Resource)
            {
                return Results.Json(new JsonObject { ["error"] = "invalid_resource", ["error_description"] = $"no token for {resource}" }, statusCode: 400);
            }
            return Results.Json(new JsonObject
            {
                ["access_token"] = Token,
                ["expires_on"] = DateTimeOffset.UtcNow.AddHours(1).ToUnixTimeSeconds().ToString(System.Globalization.CultureInfo.InvariantCulture),
                ["resource"] = resource,
                ["token_type"] = "Bearer",
            });
        });

        var vault = web.MapGroup("/keys").AddEndpointFilter(async (context, next) =>
        {
            var http = context.HttpContext;
            if (http.Connection.LocalPort == identityPort || !http.Request.IsHttps)
            {
                return Results.NotFound();
            }
            if ((string?)http.Request.Query["api-version"] is not ("7.4" or "7.5"))
            {
                return Error(400, "BadParameter", "api-version must be 7.4 or 7.5");
            }
            if (http.Request.Headers.Authorization != $"Bearer {Token}")
            {
                Refused++;
                http.Response.Headers.WWWAuthenticate = $"Bearer authorization=\"https://login.microsoftonline.com/tenant\", resource=\"{Resource}\"";
                return Error(401, "Unauthorized", "AKV10000: Request is missing a Bearer or PoP token.");
            }
            Authorised++;
            return await next(context);
        });
        vault.MapPost("/{name}/create", async (string name, HttpRequest request) => Create(name, (await request.ReadFromJsonAsync<JsonObject>())!));
        vault.MapGet("/{name}", (string name) => keys.TryGetValue(name, out var versions) ? Results.Json(Bundle(name, versions[^1])) : NotFound(name));
        vault.MapGet("/{name}/versions", (string name, HttpRequest request) => ListVersions(name, request));
        vault.MapGet("/{name}/{version}", (string name, string version) =>
            Find(name, version) is { } found ? Results.Json(Bundle(name, found)) : NotFound(name));
        vault.MapPost("/{name}/{version}/{operation}", async (string name, string version, string operation, HttpRequest request) =>
            Find(name, version) is { } found ? Operate(name, found, operation, (await request.ReadFromJsonAsync<JsonObject>())!) : NotFound(name));
    }

    private IResult Create(string name, JsonObject body)
    {
        var kty = (string?)body["kty"];
        Version version;
        if (kty is "EC" or "EC-HSM" && (string?)body["crv"] == "P-256")
        {
            version = new Version(Guid.NewGuid().ToString("N"), kty, ECDsa.Create(ECCurve.NamedCurves.nistP256), null, Interlocked.Read(ref clock));
        }
        else if (kty is "RSA" or "RSA-HSM" && (int?)body["key_size"] is 2048 or 3072 or 4096)
        {
            version = new Version(Guid.NewGuid().ToString("N"), kty, null, RSA.Create((int)body["key_size"]!), Interlocked.Read(ref clock));
        }
        else
        {
            return Error(400, "BadParameter", "The key type or curve is not supported.");
        }
        keys.AddOrUpdate(name, _ => [version], (_, list) =>
        {
            lock (list)
            {
                list.Add(version);
            }
            return list;
        });
        return Results.Json(Bundle(name, version));
    }

    private IResult ListVersions(string name, HttpRequest request)
    {
        if (!keys.TryGetValue(name, out var versions))
        {
            return NotFound(name);
        }
        // One version a page, so a client must follow nextLink.
        var skip = int.TryParse((string?)request.Query["$skiptoken"], out var n) ? n : 0;
        var page = new JsonArray(versions.Skip(skip).Take(1).Select(v => (JsonNode)new JsonObject { ["kid"] = Kid(name, v), ["attributes"] = Attributes(v) }).ToArray());
        var next = skip + 1 < versions.Count ? new Uri(VaultUri, $"keys/{name}/versions?api-version={request.Query["api-version"]}&$skiptoken={skip + 1}").AbsoluteUri : null;
        return Results.Json(new JsonObject { ["value"] = page, ["nextLink"] = next });
    }

    private IResult Operate(string name, Version version, string operation, JsonObject body)
    {
        byte[] value;
        try
        {
            value = Base64Url.DecodeFromChars((string?)body["value"] ?? string.Empty);
        }
        catch (FormatException)
        {
            return Error(400, "BadParameter", "value is not base64url");
        }
        var alg = (string?)body["alg"];
        try
        {
            byte[] result = (operation, alg) switch
            {
                ("sign", "ES256") when version.Ec is not null && value.Length == 32 =>
                    version.Ec.SignHash(value, DSASignatureFormat.IeeeP1363FixedFieldConcatenation),
                ("wrapkey", "RSA-OAEP-256") when version.Rsa is not null => version.Rsa.Encrypt(value, RSAEncryptionPadding.OaepSHA256),
                ("unwrapkey", "RSA-OAEP-256") when version.Rsa is not null => version.Rsa.Decrypt(value, RSAEncryptionPadding.OaepSHA256),
                _ => throw new ArgumentException($"{operation} with {alg} is not allowed for this key"),
            };
            return Results.Json(new JsonObject { ["kid"] = Kid(name, version), ["value"] = Base64Url.EncodeToString(result) });
        }
        catch (Exception e) when (e is ArgumentException or CryptographicException)
        {
            return Error(400, "BadParameter", e.Message);
        }
    }

    private Version? Find(string name, string version) =>
        keys.TryGetValue(name, out var versions) ? versions.FirstOrDefault(v => v.Id == version) : null;

    private JsonObject Bundle(string name, Version version)
    {
        var key = new JsonObject { ["kid"] = Kid(name, version), ["kty"] = version.Kty };
        if (version.Ec is not null)
        {
            var point = version.Ec.ExportParameters(false).Q;
            key["key_ops"] = new JsonArray("sign", "verify");
            key["crv"] = "P-256";
            key["x"] = Base64Url.EncodeToString(point.X);
            key["y"] = Base64Url.EncodeToString(point.Y);
        }
        else
        {
            var parameters = version.Rsa!.ExportParameters(false);
            key["key_ops"] = new JsonArray("wrapKey", "unwrapKey");
            key["n"] = Base64Url.EncodeToString(parameters.Modulus);
            key["e"] = Base64Url.EncodeToString(parameters.Exponent);
        }
        return new JsonObject { ["key"] = key, ["attributes"] = Attributes(version) };
    }

    private static JsonObject Attributes(Version version) => new()
    {
        ["enabled"] = true,
        ["created"] = version.Created,
        ["updated"] = version.Created,
        ["recoveryLevel"] = "Recoverable+Purgeable",
        ["exportable"] = false,
    };

    private string Kid(string name, Version version) => new Uri(VaultUri, $"keys/{name}/{version.Id}").AbsoluteUri;

    private static IResult NotFound(string name) => Error(404, "KeyNotFound", $"A key with (name/id) {name} was not found in this key vault.");

    private static IResult Error(int status, string code, string message) =>
        Results.Json(new JsonObject { ["error"] = new JsonObject { ["code"] = code, ["message"] = message } }, statusCode: status);

    private sealed record Version(string Id, string Kty, ECDsa? Ec, RSA? Rsa, long Created);
}
