namespace TOEX.Sharing.Gateway.Apis;

/// <summary>The body of <c>POST /api/v1/packages/{id}/recall</c> (read by <see cref="RecallApi"/>; described in the OpenAPI document).</summary>
/// <param name="Reason">Why the package is recalled: 1 to <see cref="RecallApi.MaxReasonLength"/> characters, required.</param>
public sealed record RecallRequest(string Reason);

/// <summary>The optional body of an operator's retry (read by <see cref="DeliveriesApi"/>; described in the OpenAPI document).</summary>
/// <param name="Reason">Why the push is tried again, at most <see cref="RecallApi.MaxReasonLength"/> characters.</param>
public sealed record RetryRequest(string? Reason);
