namespace TOEX.Sharing.Policy;

/// <summary>The obligation types of DOMAIN.md, in the order a decision lists them.</summary>
public static class ObligationTypes
{
    public const string Sanitise = "sanitise";
    public const string AttachConditions = "attach-conditions";
    public const string Acknowledge = "acknowledge";
    public const string RetainUntil = "retain-until";
    public const string NoOnwardSharing = "no-onward-sharing";

    public static readonly IReadOnlyList<string> All = [Sanitise, AttachConditions, Acknowledge, RetainUntil, NoOnwardSharing];
}
