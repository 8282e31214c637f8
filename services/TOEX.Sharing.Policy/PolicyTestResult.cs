namespace TOEX.Sharing.Policy;

/// <summary>The result of one policy test case. <see cref="Failure"/> starts with <c>file:line:</c> and says what differed.</summary>
public sealed record PolicyTestResult(string Name, bool Passed, string? Failure);
