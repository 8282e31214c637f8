using System.Text.Json;
using System.Text.Json.Nodes;
using Azure.Core;
using Azure.Core.Pipeline;
using Azure.Identity;

namespace TOEX.Sharing.KeyCustody.Azure;

/// <summary>
/// The few Azure Key Vault / Managed HSM key operations TOEX calls, on Azure.Core's pipeline (retries, bearer tokens
/// from an Azure.Identity credential, HTTPS only): create, get, list versions, sign, wrapKey, unwrapKey, as the
/// published REST reference shapes them (JSON Web Keys, <c>kid</c> URLs with versions, base64url <c>value</c>).
/// </summary>
public sealed class KeyVaultClient : IDisposable
{
    private readonly HttpPipeline pipeline;
    private readonly Uri vault;
    private readonly string apiVersion;

    public KeyVaultClient(Uri vaultUri, string apiVersion, TokenCredential credential, HttpPipelineTransport? transport = null)
    {
        ArgumentNullException.ThrowIfNull(vaultUri);
        ArgumentNullException.ThrowIfNull(credential);
        vault = vaultUri;
        this.apiVersion = apiVersion;
        var options = new VaultClientOptions();
        if (transport is not null)
        {
            options.Transport = transport;
        }
        // Managed HSM and Key Vault take tokens for different resources.
        var scope = vaultUri.Host.EndsWith(".managedhsm.azure.net", StringComparison.OrdinalIgnoreCase)
            ? "https://managedhsm.azure.net/.default"
            : "https://vault.azure.net/.default";
        pipeline = HttpPipelineBuilder.Build(options, new BearerTokenAuthenticationPolicy(credential, scope));
    }

    /// <summary>The client the settings describe, with the Azure.Identity credential they name.</summary>
    public static KeyVaultClient Create(AzureKeyVaultOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        TokenCredential credential = options.Credential switch
        {
            "workload-identity" => new WorkloadIdentityCredential(),
            "default" => new DefaultAzureCredential(),
            _ => options.ManagedIdentityClientId is { Length: > 0 } clientId
                ? new ManagedIdentityCredential(ManagedIdentityId.FromUserAssignedClientId(clientId))
                : new ManagedIdentityCredential(ManagedIdentityId.SystemAssigned),
        };
        return new KeyVaultClient(options.VaultUri!, options.ApiVersion, credential);
    }

    /// <summary>GET /keys/{name}: the latest version's key bundle, or null when the vault has no such key.</summary>
    public JsonObject? GetKey(string name, string? version = null) =>
        Send(RequestMethod.Get, version is null ? $"keys/{name}" : $"keys/{name}/{version}", body: null, allowNotFound: true);

    /// <summary>GET /keys/{name}/versions, every page: each item's <c>kid</c> and <c>attributes</c>.</summary>
    public List<JsonObject> ListVersions(string name)
    {
        var items = new List<JsonObject>();
        var page = Send(RequestMethod.Get, $"keys/{name}/versions", body: null, allowNotFound: false)!;
        while (true)
        {
            items.AddRange(page["value"]?.AsArray().OfType<JsonObject>() ?? []);
            if (page["nextLink"]?.GetValue<string>() is not { Length: > 0 } next)
            {
                return items;
            }
            var nextUri = new Uri(next);
            if (nextUri.Host != vault.Host)
            {
                throw new KeyCustodyException($"The vault answered with a next page on another host ({nextUri.Host}).");
            }
            page = Send(RequestMethod.Get, nextUri, body: null, allowNotFound: false)!;
        }
    }

    /// <summary>POST /keys/{name}/create: a new version (the first creates the key); generated inside the vault.</summary>
    public JsonObject CreateKey(string name, JsonObject parameters) => Send(RequestMethod.Post, $"keys/{name}/create", parameters, allowNotFound: false)!;

    /// <summary>POST {kid}/{operation} (sign, wrapkey, unwrapkey) with <c>{alg, value}</c>; returns the result's <c>value</c>.</summary>
    public byte[] Operate(Uri versionKid, string operation, string algorithm, ReadOnlySpan<byte> value)
    {
        if (versionKid.Host != vault.Host)
        {
            throw new KeyCustodyException($"Key '{versionKid}' is not in the vault {vault}.");
        }
        var body = new JsonObject { ["alg"] = algorithm, ["value"] = System.Buffers.Text.Base64Url.EncodeToString(value) };
        var result = Send(RequestMethod.Post, new Uri(versionKid.AbsoluteUri.TrimEnd('/') + "/" + operation), body, allowNotFound: false)!;
        return result["value"]?.GetValue<string>() is { } text
            ? System.Buffers.Text.Base64Url.DecodeFromChars(text)
            : throw new KeyCustodyException($"The vault's {operation} answer has no value.");
    }

    public void Dispose()
    {
    }

    private JsonObject? Send(RequestMethod method, string path, JsonObject? body, bool allowNotFound) =>
        Send(method, new Uri(vault, path), body, allowNotFound);

    private JsonObject? Send(RequestMethod method, Uri uri, JsonObject? body, bool allowNotFound)
    {
        using var message = pipeline.CreateMessage();
        var request = message.Request;
        request.Method = method;
        // A nextLink carries its own query (with the api-version); every other call gets ours.
        request.Uri.Reset(uri.Query.Contains("api-version=", StringComparison.Ordinal)
            ? uri
            : new UriBuilder(uri) { Query = $"api-version={Uri.EscapeDataString(apiVersion)}" }.Uri);
        request.Headers.Add("Accept", "application/json");
        if (body is not null)
        {
            request.Headers.Add("Content-Type", "application/json");
            request.Content = RequestContent.Create(BinaryData.FromString(body.ToJsonString()));
        }
        try
        {
            pipeline.Send(message, CancellationToken.None);
        }
        catch (Exception e) when (e is global::Azure.RequestFailedException or AuthenticationFailedException or CredentialUnavailableException)
        {
            throw new KeyCustodyException($"The vault {vault.Host} could not be reached or the credential was refused (KeyCustody:AzureKeyVault): {e.Message}", e);
        }
        var response = message.Response;
        if (response.Status == 404 && allowNotFound)
        {
            return null;
        }
        JsonObject? answer = null;
        try
        {
            answer = response.Content.ToMemory().Length > 0 ? JsonNode.Parse(response.Content.ToMemory().Span) as JsonObject : null;
        }
        catch (JsonException)
        {
            // Described below by its status.
        }
        if (response.Status is < 200 or > 299)
        {
            var code = answer?["error"]?["code"]?.GetValue<string>() ?? "(no error code)";
            throw new KeyCustodyException($"The vault {vault.Host} answered {response.Status} ({code}) to {method} {uri.AbsolutePath}.");
        }
        return answer ?? throw new KeyCustodyException($"The vault {vault.Host} answered {method} {uri.AbsolutePath} without a JSON object.");
    }

    private sealed class VaultClientOptions : ClientOptions;
}
