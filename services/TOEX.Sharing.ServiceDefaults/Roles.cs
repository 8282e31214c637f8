namespace TOEX.Sharing.ServiceDefaults;

/// <summary>The application roles of API.md.</summary>
public static class Roles
{
    public const string PackagesSubmit = "Packages.Submit";
    public const string FeedRead = "Feed.Read";
    public const string AuditRead = "Audit.Read";
    public const string DisclosuresApprove = "Disclosures.Approve";
    public const string PoliciesRead = "Policies.Read";
    /// <summary>The broker's operators: list pushes, send a dead-lettered push back.</summary>
    public const string DeliveriesOperate = "Deliveries.Operate";

    public static readonly IReadOnlyList<string> All = [PackagesSubmit, FeedRead, AuditRead, DisclosuresApprove, PoliciesRead, DeliveriesOperate];

    /// <summary>
    /// Roles that act across organisations (on other partners' pushes): honoured only for the organisations named in
    /// <c>Operations:Organisations</c>, whatever an identity provider grants.
    /// </summary>
    public static readonly IReadOnlyList<string> Operator = [DeliveriesOperate];
}
