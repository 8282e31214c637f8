using System.Text;

namespace TOEX.Sharing.Sealing;

/// <summary>A package that decrypted and verified: its JSON bytes, the broker key that signed it and the recipient key it was sealed for.</summary>
public sealed record OpenedPackage(byte[] Payload, string SignerKeyId, string RecipientKeyId)
{
    public string PayloadText => Encoding.UTF8.GetString(Payload);
}
