namespace TOEX.Sharing.Ledger;

/// <summary>The outcome of checking a proof: valid, or why not.</summary>
/// <param name="IsValid">Whether the proof holds.</param>
/// <param name="Failure">Why it does not; null when it does.</param>
public readonly record struct VerificationResult(bool IsValid, string? Failure)
{
    public static VerificationResult Valid { get; } = new(true, null);

    public static VerificationResult Invalid(string failure) => new(false, failure);

    public override string ToString() => IsValid ? "valid" : $"invalid: {Failure}";
}
