namespace TOEX.Sharing.Sealing;

/// <summary>Writes a key ring's public JWKS to a file another service reads its keys from: public keys only, replaced whole.</summary>
public static class PublicKeyFile
{
    public static void Write(IKeyRing keys, string path)
    {
        ArgumentNullException.ThrowIfNull(keys);
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        var temporary = path + ".tmp";
        File.WriteAllText(temporary, keys.PublicJwks());
        File.Move(temporary, path, overwrite: true);
    }
}
