namespace TOEX.Sharing.Policy;

/// <summary>Decision outcomes, most permissive first.</summary>
public static class Outcomes
{
    public const string Permit = "permit";
    public const string Refer = "refer";
    public const string Deny = "deny";

    public static readonly IReadOnlyList<string> All = [Permit, Refer, Deny];
}
