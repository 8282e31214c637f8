using System.Security.Cryptography;
using System.Text;

namespace TOEX.Sharing.ServiceDefaults;

/// <summary>
/// A message id derived deterministically from another (SHA-256 of the source id and a purpose), so a
/// redelivered message produces the same downstream ids and idempotent consumers see it once.
/// </summary>
public static class DerivedId
{
    public static Guid From(Guid source, string purpose)
    {
        Span<byte> hash = stackalloc byte[32];
        SHA256.HashData(Encoding.UTF8.GetBytes($"{source:N}/{purpose}"), hash);
        return new Guid(hash[..16]);
    }
}
