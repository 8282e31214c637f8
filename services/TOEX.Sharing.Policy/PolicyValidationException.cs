namespace TOEX.Sharing.Policy;

/// <summary>The policy set is invalid. <see cref="Problems"/> holds every problem found; the message lists them one per line.</summary>
public sealed class PolicyValidationException : Exception
{
    public PolicyValidationException()
        : this([])
    {
    }

    public PolicyValidationException(string message)
        : base(message)
    {
        Problems = [];
    }

    public PolicyValidationException(string message, Exception innerException)
        : base(message, innerException)
    {
        Problems = [];
    }

    public PolicyValidationException(IReadOnlyList<PolicyProblem> problems)
        : base(string.Join('\n', problems))
    {
        Problems = problems;
    }

    public IReadOnlyList<PolicyProblem> Problems { get; }
}
