namespace TOEX.Sharing.Policy;

/// <summary>One problem found in a policy or policy test file: file relative to the policies directory, 1-based line.</summary>
public sealed record PolicyProblem(string File, int Line, string Message)
{
    public override string ToString() => $"{File}:{Line}: {Message}";
}
