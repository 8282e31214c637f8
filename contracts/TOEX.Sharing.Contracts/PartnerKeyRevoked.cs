namespace TOEX.Sharing.Contracts;

/// <summary>A partner's encryption key was revoked: nothing is sealed to it again, and it is never registered again.</summary>
public sealed record PartnerKeyRevoked
{
    public required string Partner { get; init; }
    public required string KeyId { get; init; }
    public required string Thumbprint { get; init; }
    /// <summary>Who revoked it: <c>ORG/SUBJECT</c>.</summary>
    public required string RevokedBy { get; init; }
    /// <summary><c>operator</c> or <c>partner</c> (see <see cref="PartnerKeyAuthority"/>).</summary>
    public required string Authority { get; init; }
    /// <summary>For the partner: the thumbprint of the current key whose possession it proved.</summary>
    public string? ProvedWith { get; init; }
    public string? Reason { get; init; }
    public required DateTimeOffset At { get; init; }
}
