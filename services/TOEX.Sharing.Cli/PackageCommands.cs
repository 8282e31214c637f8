using System.CommandLine;
using System.Text.Json;
using TOEX.Sharing.Sealing;

namespace TOEX.Sharing.Cli;

/// <summary><c>toex package open</c>: what a partner runs to decrypt and verify a sealed package.</summary>
public static class PackageCommands
{
    public static Command Create()
    {
        var key = new Option<FileInfo>("--key")
        {
            Description = "The partner's private key (a JWK file, e.g. NAME.private.jwk).",
            Required = true,
        };
        var jwks = new Option<string>("--jwks")
        {
            Description = $"The broker's public signing keys (its JWKS, served at /.well-known/jwks.json): {JwksSource.Help}, "
                + "e.g. http://127.0.0.1:5080/.well-known/jwks.json.",
            Required = true,
        };
        var file = new Argument<FileInfo>("FILE")
        {
            Description = "The sealed package: a compact JWE, or a feed item (JSON with a 'sealed' member).",
        };

        var open = new Command("open", "Decrypts and verifies a sealed package and prints its JSON. Exit 1 if it cannot be verified.")
        {
            key,
            jwks,
            file,
        };
        open.SetAction((parseResult, cancellationToken) => OpenAsync(
            parseResult,
            parseResult.GetRequiredValue(key),
            parseResult.GetRequiredValue(jwks),
            parseResult.GetRequiredValue(file),
            cancellationToken));

        return new Command("package", "Sealed packages as a partner receives them.") { open };
    }

    private static async Task<int> OpenAsync(ParseResult parseResult, FileInfo keyFile, string jwksSource, FileInfo packageFile,
        CancellationToken cancellationToken)
    {
        var output = parseResult.InvocationConfiguration.Output;
        var error = parseResult.InvocationConfiguration.Error;

        string privateJwk, brokerJwks, compactJwe;
        try
        {
            privateJwk = KeyFiles.ReadPrivateJwk(keyFile.FullName);
            brokerJwks = await JwksSource.ReadAsync(jwksSource, cancellationToken);
            compactJwe = ReadSealed(packageFile);
        }
        catch (SealException exception)
        {
            error.WriteLine($"toex package open: {exception.Message}");
            return ExitCodes.Usage;
        }

        try
        {
            var opened = PackageOpener.OpenPackage(compactJwe, privateJwk, brokerJwks);
            output.WriteLine(opened.PayloadText);
            error.WriteLine($"Verified: signed by broker key '{opened.SignerKeyId}', sealed for key '{opened.RecipientKeyId}'.");
            return ExitCodes.Success;
        }
        catch (SealException exception)
        {
            error.WriteLine($"toex package open: {exception.Message}");
            return ExitCodes.Finding;
        }
    }

    /// <summary>The compact JWE in <paramref name="file"/>: the file's text, or the 'sealed' member of a feed item.</summary>
    private static string ReadSealed(FileInfo file)
    {
        string text;
        try
        {
            text = File.ReadAllText(file.FullName).Trim();
        }
        catch (Exception exception) when (exception is FileNotFoundException or DirectoryNotFoundException)
        {
            throw new SealException($"'{file}' does not exist.");
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
        {
            throw new SealException($"'{file}' cannot be read: {exception.Message}");
        }

        if (!text.StartsWith('{'))
        {
            return text;
        }

        try
        {
            using var item = JsonDocument.Parse(text);
            return item.RootElement.ValueKind == JsonValueKind.Object
                && item.RootElement.TryGetProperty("sealed", out var sealedPackage)
                && sealedPackage.ValueKind == JsonValueKind.String
                ? sealedPackage.GetString()!
                : throw new SealException($"'{file}' is JSON without a 'sealed' string member; give a compact JWE or a feed item.");
        }
        catch (JsonException)
        {
            throw new SealException($"'{file}' is neither a compact JWE nor valid JSON.");
        }
    }
}
