namespace TOEX.Sharing.Sealing;

/// <summary>
/// A key, package or decision that cannot be used: unreadable, malformed, too weak, not for this
/// recipient, tampered with or not signed by a trusted key. The message is plain English, safe to
/// show to an operator, and never contains key material.
/// </summary>
public sealed class SealException : Exception
{
    public SealException()
    {
    }

    public SealException(string message)
        : base(message)
    {
    }

    public SealException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
