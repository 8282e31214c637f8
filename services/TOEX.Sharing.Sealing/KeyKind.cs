namespace TOEX.Sharing.Sealing;

/// <summary>The key types TOEX accepts: EC on curve P-256, or RSA of at least 2048 bits.</summary>
public enum KeyKind
{
    EC,
    Rsa,
}
