namespace TOEX.Sharing.Sealing;

/// <summary>The <c>keyring.json</c> of a <see cref="LocalKeyRing"/>.</summary>
internal sealed record KeyRingManifest(string Current, IReadOnlyList<KeyRingEntry> Keys);

/// <summary>One key of a <see cref="LocalKeyRing"/>: its id, when it was made, and when it stopped being current.</summary>
internal sealed record KeyRingEntry(string Kid, DateTimeOffset CreatedAt, DateTimeOffset? RetiredAt);
