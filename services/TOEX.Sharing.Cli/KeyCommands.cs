using System.CommandLine;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Options;
using TOEX.Sharing.KeyCustody;
using TOEX.Sharing.Sealing;

namespace TOEX.Sharing.Cli;

/// <summary>
/// <c>toex keys generate</c>: a key pair as files (sample partner keys, standalone signing keys);
/// <c>toex keys ring</c>: the broker's or PolicyDecision's local key ring (create, rotate, export its public JWKS);
/// <c>toex keys rotate --purpose P</c>: a rotation in whatever custody the KeyCustody settings name.
/// </summary>
public static class KeyCommands
{
    public static Command Create() => new("keys", "Key pairs and key rings for development and local runs.")
    {
        CreateGenerate(),
        CreateRing(),
        CreateRotate(),
    };

    private static Command CreateRotate()
    {
        var purpose = new Option<string>("--purpose")
        {
            Description = "The key to rotate: " + string.Join(", ", KeyPurposes.All.Select(p => p.Name())) + ".",
            Required = true,
        }.AcceptOnlyFromAmong([.. KeyPurposes.All.Select(p => p.Name())]);
        var directory = new Option<DirectoryInfo?>("--dir")
        {
            Description = "For local keys: the service's key folder (e.g. .local/keys/broker, the service's KeyRingPath setting).",
        };
        var rotate = new Command("rotate",
            "Makes a new key current for one purpose, in the custody the KeyCustody__* environment variables name (as the service's "
            + "settings do: local, pkcs11 or azure-keyvault); the old key stays published, so what it signed still verifies. "
            + "Creates the first key where there is none.") { purpose, directory };
        rotate.SetAction(parseResult =>
        {
            var error = parseResult.InvocationConfiguration.Error;
            var chosen = KeyPurposes.Parse(parseResult.GetRequiredValue(purpose))!.Value;
            var configuration = new ConfigurationBuilder().AddEnvironmentVariables().Build();
            var options = configuration.GetSection(KeyCustodyOptions.Section).Get<KeyCustodyOptions>() ?? new KeyCustodyOptions();
            var (provider, _) = options.ProviderOf(chosen);
            var folder = parseResult.GetValue(directory)?.FullName;
            if (provider == CustodyProviders.Local && folder is null)
            {
                error.WriteLine("toex keys rotate: local keys need --dir (the service's key folder, e.g. .local/keys/broker).");
                return ExitCodes.Usage;
            }
            var problems = new KeyCustodyOptionsValidator(production: false, [chosen]).Validate(null, options);
            if (problems.Failed)
            {
                error.WriteLine($"toex keys rotate: {problems.FailureMessage}");
                return ExitCodes.Usage;
            }
            try
            {
                options.CreateMissing = true;
                using var custodies = new KeyCustodies(Options.Create(options), production: false, TimeProvider.System);
                var custody = custodies.Get(chosen, folder ?? string.Empty);
                var key = custody.Rotate();
                var output = parseResult.InvocationConfiguration.Output;
                output.WriteLine($"{chosen.Name()} ({custody.Provider}): current key {key.KeyId}; {custody.Keys.Count - 1} earlier key(s) kept for verification");
                if (chosen.Signs())
                {
                    output.WriteLine(custody.PublicJwks());
                }
                return ExitCodes.Success;
            }
            catch (Exception exception) when (exception is KeyCustodyException or SealException or IOException or UnauthorizedAccessException)
            {
                error.WriteLine($"toex keys rotate: {exception.Message}");
                return ExitCodes.Finding;
            }
        });
        return rotate;
    }

    private static Command CreateGenerate()
    {
        var output = new Option<DirectoryInfo>("--out")
        {
            Description = "Directory to write NAME.private.jwk (owner-only) and NAME.jwks.json into; created if missing.",
            Required = true,
        };
        var kind = new Option<string>("--kind")
        {
            Description = "ec (P-256), ec-p384 (P-384, a partner's encryption key) or rsa (3072 bits).",
            DefaultValueFactory = _ => "ec",
        }.AcceptOnlyFromAmong("ec", "ec-p384", "rsa");
        var name = new Option<string?>("--name")
        {
            Description = "File name stem. Default: the key id (its RFC 7638 thumbprint).",
        };
        var use = new Option<string>("--use")
        {
            Description = "enc (a partner's encryption key) or sig (an ES256 signing key; ec only).",
            DefaultValueFactory = _ => "enc",
        }.AcceptOnlyFromAmong("enc", "sig");

        var generate = new Command("generate", "Generates a key pair: NAME.private.jwk and NAME.jwks.json.") { output, kind, name, use };
        generate.SetAction(parseResult =>
        {
            try
            {
                var generated = KeyFiles.Generate(
                    parseResult.GetRequiredValue(output).FullName,
                    parseResult.GetValue(kind) == "rsa" ? KeyKind.Rsa : KeyKind.EC,
                    parseResult.GetValue(use) == "sig" ? KeyUse.Signature : KeyUse.Encryption,
                    parseResult.GetValue(name),
                    curve: parseResult.GetValue(kind) == "ec-p384" ? System.Security.Cryptography.ECCurve.NamedCurves.nistP384 : null);
                var writer = parseResult.InvocationConfiguration.Output;
                writer.WriteLine($"key id:         {generated.KeyId}");
                writer.WriteLine($"private key:    {generated.PrivateJwkPath} (keep secret)");
                writer.WriteLine($"public key set: {generated.PublicJwksPath}");
                return ExitCodes.Success;
            }
            catch (Exception exception) when (exception is SealException or IOException or UnauthorizedAccessException)
            {
                parseResult.InvocationConfiguration.Error.WriteLine($"toex keys generate: {exception.Message}");
                return ExitCodes.Usage;
            }
        });
        return generate;
    }

    private static Command CreateRing()
    {
        var directory = new Option<DirectoryInfo>("--dir")
        {
            Description = "The key ring directory (e.g. .local/broker-keys); created with a first key if missing.",
            Required = true,
        };
        var rotate = new Option<bool>("--rotate")
        {
            Description = "Make a new current key; the old one stays published as retired.",
        };
        var jwksOut = new Option<FileInfo?>("--jwks-out")
        {
            Description = "Also write the public JWKS to this file (e.g. for the gateway's trusted policy keys).",
        };

        var ring = new Command("ring", "Opens or creates a local signing key ring and prints its public JWKS.") { directory, rotate, jwksOut };
        ring.SetAction(parseResult =>
        {
            try
            {
                using var keys = LocalKeyRing.OpenOrCreate(parseResult.GetRequiredValue(directory).FullName, TimeProvider.System);
                if (parseResult.GetValue(rotate))
                {
                    keys.Rotate();
                }

                var jwks = keys.PublicJwks();
                if (parseResult.GetValue(jwksOut) is { } file)
                {
                    File.WriteAllText(file.FullName, jwks + Environment.NewLine);
                }

                parseResult.InvocationConfiguration.Output.WriteLine(jwks);
                return ExitCodes.Success;
            }
            catch (Exception exception) when (exception is SealException or IOException or UnauthorizedAccessException)
            {
                parseResult.InvocationConfiguration.Error.WriteLine($"toex keys ring: {exception.Message}");
                return ExitCodes.Finding;
            }
        });
        return ring;
    }
}
