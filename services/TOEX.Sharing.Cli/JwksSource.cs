using TOEX.Sharing.Sealing;

namespace TOEX.Sharing.Cli;

/// <summary>
/// Where a <c>--jwks</c> option takes a public key set from: an <c>http(s)://</c> URL (a service's published
/// <c>/.well-known/jwks.json</c>, fetched once, redirects not followed) or a file. Either way the content must be a
/// JWKS or one public JWK, never private key material.
/// </summary>
public static class JwksSource
{
    public const string Help = "a file, or the http(s) URL where it is published";

    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    /// <summary>The key set's JSON; a <see cref="SealException"/> naming the source when it cannot be had or is not a public key set.</summary>
    public static async Task<string> ReadAsync(string source, CancellationToken cancellationToken)
    {
        if (!IsUrl(source, out var url))
        {
            return KeyFiles.ReadJwks(source);
        }
        var what = $"The key set at '{url}'";
        using var http = new HttpClient(new SocketsHttpHandler { AllowAutoRedirect = false }) { Timeout = Timeout };
        try
        {
            using var response = await http.GetAsync(url, cancellationToken);
            if (!response.IsSuccessStatusCode)
            {
                throw new SealException($"{what} could not be fetched: the server answered {(int)response.StatusCode} {response.ReasonPhrase}.");
            }
            return KeyFiles.CheckJwks(await response.Content.ReadAsStringAsync(cancellationToken), what);
        }
        catch (HttpRequestException e)
        {
            throw new SealException($"{what} could not be fetched: {e.Message}");
        }
        catch (TaskCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new SealException($"{what} could not be fetched within {Timeout.TotalSeconds:0} s.");
        }
    }

    private static bool IsUrl(string source, out Uri url) =>
        Uri.TryCreate(source, UriKind.Absolute, out url!) && url.Scheme is "http" or "https";
}
