using TOEX.Sharing.ServiceDefaults;

namespace TOEX.Sharing.Audit.Referrals;

/// <summary>The body of an approval or a rejection (read by <see cref="ReferralsApi"/>; described in the OpenAPI document).</summary>
/// <param name="Justification">Why the disclosure is approved or rejected: 1 to <see cref="ReferralsApi.MaxJustification"/> characters, required.</param>
public sealed record DecisionRequest(string Justification);

internal static class DecisionDescription
{
    /// <summary>What an approval or a rejection takes and answers, for the OpenAPI document.</summary>
    public static RouteHandlerBuilder DescribedAsDecision(this RouteHandlerBuilder route) => route
        .Accepts<DecisionRequest>("application/json").Produces<ReferralDecisionView>().ProducesValidationProblem()
        .ProducesProblem(StatusCodes.Status403Forbidden).ProducesProblem(StatusCodes.Status404NotFound).ProducesProblem(StatusCodes.Status409Conflict);
}
