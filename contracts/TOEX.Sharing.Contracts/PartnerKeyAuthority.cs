namespace TOEX.Sharing.Contracts;

/// <summary>On whose authority a partner's key was registered or revoked (<see cref="PartnerKeyRegistered.Authority"/>).</summary>
public static class PartnerKeyAuthority
{
    /// <summary>One of the broker's operators (role <c>Deliveries.Operate</c>, an operator organisation), with a reason.</summary>
    public const string Operator = "operator";

    /// <summary>The partner itself, proving possession of its current key.</summary>
    public const string Partner = "partner";
}
