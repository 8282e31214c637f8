using System.Security.Cryptography;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace TOEX.Sharing.Sealing;

/// <summary>
/// The development token issuer, for local runs and tests only: an ES256 key kept in a
/// <see cref="LocalKeyRing"/> directory (0700, key files 0600), created on first use. Issues access
/// tokens (typ "at+jwt") with iss, aud, sub, org (the partner id), roles (always a JSON array), iat,
/// nbf, exp and jti; the services validate them with <see cref="SigningKeyForValidation"/> or <see cref="PublicJwks"/>.
/// </summary>
public sealed class DevIssuer : IDisposable
{
    public const string Issuer = "https://toex.local/dev-issuer";
    public const string Audience = "toex-sharing";
    public const string TokenType = "at+jwt";
    public const string DirectoryVariable = "TOEX_DEV_ISSUER_DIR";

    private const string SolutionFile = "TOEX.Sharing.sln";

    private readonly LocalKeyRing ring;
    private readonly TimeProvider time;
    private readonly JsonWebTokenHandler handler = new();
    private readonly SigningCredentials credentials;

    private DevIssuer(LocalKeyRing ring, TimeProvider time)
    {
        this.ring = ring;
        this.time = time;
        var key = ring.Current;
        var ecdsa = key.Ecdsa ?? throw new InvalidOperationException("The development issuer's key ring holds no local key.");
        // Microsoft.IdentityModel caches signature providers by key id across instances: an issuer opened
        // and disposed (as a test or the CLI does) must not leave a provider over a disposed key behind.
        credentials = new SigningCredentials(new ECDsaSecurityKey(ecdsa) { KeyId = key.KeyId, CryptoProviderFactory = Uncached() },
            SecurityAlgorithms.EcdsaSha256);
        SigningKeyForValidation = new ECDsaSecurityKey(ECDsa.Create(ecdsa.ExportParameters(includePrivateParameters: false)))
        {
            KeyId = key.KeyId,
            CryptoProviderFactory = Uncached(),
        };
    }

    private static CryptoProviderFactory Uncached() => new() { CacheSignatureProviders = false };

    /// <summary>The public key that verifies this issuer's tokens (its kid set).</summary>
    public SecurityKey SigningKeyForValidation { get; }

    public string KeyDirectory => ring.KeyDirectory;

    public static DevIssuer OpenOrCreate(string directory, TimeProvider time) =>
        new(LocalKeyRing.OpenOrCreate(directory, time), time);

    /// <summary>
    /// <c>TOEX_DEV_ISSUER_DIR</c> if set, else <c>.local/dev-issuer</c> under the repository root: the
    /// folder holding TOEX.Sharing.sln, found walking up from the current directory, then from the application's base directory.
    /// </summary>
    public static string DefaultDirectory()
    {
        var configured = Environment.GetEnvironmentVariable(DirectoryVariable);
        if (!string.IsNullOrWhiteSpace(configured))
        {
            return Path.GetFullPath(configured);
        }

        var root = FindRepositoryRoot(Environment.CurrentDirectory) ?? FindRepositoryRoot(AppContext.BaseDirectory)
            ?? throw new InvalidOperationException(
                $"The development issuer's directory is unknown: {SolutionFile} was not found above the current directory or the application; set {DirectoryVariable}.");
        return Path.Combine(root, ".local", "dev-issuer");
    }

    /// <summary>The issuer's public JWKS.</summary>
    public string PublicJwks() => ring.PublicJwks();

    public string CreateToken(string organisation, IReadOnlyCollection<string> roles, string subject, TimeSpan lifetime)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(organisation);
        ArgumentException.ThrowIfNullOrWhiteSpace(subject);
        ArgumentNullException.ThrowIfNull(roles);
        if (roles.Count == 0 || roles.Any(string.IsNullOrWhiteSpace))
        {
            throw new ArgumentException("At least one role is needed, and no role may be blank.", nameof(roles));
        }

        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(lifetime, TimeSpan.Zero);

        var now = time.GetUtcNow().UtcDateTime;
        var descriptor = new SecurityTokenDescriptor
        {
            TokenType = TokenType,
            Issuer = Issuer,
            Audience = Audience,
            IssuedAt = now,
            NotBefore = now,
            Expires = now + lifetime,
            Claims = new Dictionary<string, object>
            {
                [JwtRegisteredClaimNames.Sub] = subject,
                ["org"] = organisation,
                ["roles"] = roles.ToArray(),
                [JwtRegisteredClaimNames.Jti] = Guid.NewGuid().ToString("N"),
            },
            SigningCredentials = credentials,
        };
        return handler.CreateToken(descriptor);
    }

    public void Dispose()
    {
        ((ECDsaSecurityKey)SigningKeyForValidation).ECDsa.Dispose();
        ring.Dispose();
    }

    private static string? FindRepositoryRoot(string start)
    {
        for (var directory = new DirectoryInfo(start); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, SolutionFile)))
            {
                return directory.FullName;
            }
        }

        return null;
    }
}
