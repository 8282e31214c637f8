namespace TOEX.Sharing.Policy;

/// <summary>
/// A registered partner. <see cref="Competent"/>: a competent authority under DPA 2018 Part 3.
/// <see cref="Delivery"/>: <c>pull</c> (feed) or <c>push</c> (webhook at <see cref="Endpoint"/>).
/// </summary>
public sealed record Partner(string Id, string Name, string Kind, bool Competent, string Ceiling, string Delivery, Uri? Endpoint);
