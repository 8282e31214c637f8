namespace TOEX.Sharing.Contracts;

/// <summary>One finding of a decision: a stable code (DOMAIN.md), the agreement clause, a plain-English message.</summary>
public sealed record Reason(string Code, string? Clause, string Message);
