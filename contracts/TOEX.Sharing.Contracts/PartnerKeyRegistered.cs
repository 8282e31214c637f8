namespace TOEX.Sharing.Contracts;

/// <summary>
/// A new encryption key was registered for a partner in the partner registry: by one of the broker's operators, or by the
/// partner itself proving possession of its current key. Copies are sealed to the newest valid key from its not-before.
/// </summary>
public sealed record PartnerKeyRegistered
{
    public required string Partner { get; init; }
    public required string KeyId { get; init; }
    /// <summary>The RFC 7638 SHA-256 thumbprint of the public key.</summary>
    public required string Thumbprint { get; init; }
    /// <summary>"EC P-256", "EC P-384" or "RSA 3072".</summary>
    public required string KeyType { get; init; }
    public DateTimeOffset? NotBefore { get; init; }
    public DateTimeOffset? Expires { get; init; }
    /// <summary>Who registered it: <c>ORG/SUBJECT</c>.</summary>
    public required string RegisteredBy { get; init; }
    /// <summary><c>operator</c> or <c>partner</c> (see <see cref="PartnerKeyAuthority"/>).</summary>
    public required string Authority { get; init; }
    /// <summary>For the partner: the thumbprint of the current key whose possession it proved.</summary>
    public string? ProvedWith { get; init; }
    /// <summary>The operator's reason (required of an operator).</summary>
    public string? Reason { get; init; }
    public required DateTimeOffset At { get; init; }
}
