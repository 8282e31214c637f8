using System.Globalization;
using System.Security.Claims;
using System.Text.Json;
using Microsoft.AspNetCore.Http.HttpResults;
using TOEX.Sharing.Contracts;
using TOEX.Sharing.Gateway.Data;
using TOEX.Sharing.Gateway.Release;
using TOEX.Sharing.Sealing;
using TOEX.Sharing.ServiceDefaults;

namespace TOEX.Sharing.Gateway.Apis;

/// <summary>One key of a partner's set as the API shows it.</summary>
public sealed record PartnerKeyView(
    string KeyId, string? Thumbprint, string? Type, DateTimeOffset? NotBefore, DateTimeOffset? Expires, DateTimeOffset? RevokedAt,
    RecipientKeyState State, bool Current, string? Problem);

/// <summary>A partner's key set: every key (revoked ones last) with its state now, and the one copies are sealed to now.</summary>
public sealed record PartnerKeysView(string Partner, string? Current, IReadOnlyList<PartnerKeyView> Keys, string? Problem);

/// <summary>A challenge to answer: decrypt it with the key <see cref="SealedTo"/> and send the plaintext as <c>proof</c>.</summary>
public sealed record KeyChallengeView(string Challenge, string SealedTo, DateTimeOffset ExpiresAt, string Intent);

/// <summary>The body of a challenge request (read by <see cref="PartnerKeysApi"/>; described in the OpenAPI document).</summary>
/// <param name="Action"><c>register</c> (with key, notBefore, expires) or <c>revoke</c> (with keyId).</param>
/// <param name="Key">The new public JWK (register).</param>
/// <param name="NotBefore">When it becomes valid (register; default: when it is registered).</param>
/// <param name="Expires">When it stops being valid (register; default: never, until revoked).</param>
/// <param name="KeyId">The kid of the key to revoke (revoke).</param>
public sealed record KeyChallengeRequest(string Action, JsonElement? Key, DateTimeOffset? NotBefore, DateTimeOffset? Expires, string? KeyId);

/// <summary>The body of a key registration (read by <see cref="PartnerKeysApi"/>; described in the OpenAPI document).</summary>
/// <param name="Key">The new public JWK: EC P-256 or P-384, or RSA of at least 2048 bits, for encryption.</param>
/// <param name="NotBefore">When it becomes valid (default: now).</param>
/// <param name="Expires">When it stops being valid (default: never, until revoked).</param>
/// <param name="Proof">The partner's own registration: its answer to the challenge for this registration.</param>
/// <param name="Reason">An operator's registration: why (required of an operator).</param>
public sealed record KeyRegistrationRequest(JsonElement Key, DateTimeOffset? NotBefore, DateTimeOffset? Expires, string? Proof, string? Reason);

/// <summary>The body of a revocation (read by <see cref="PartnerKeysApi"/>; described in the OpenAPI document).</summary>
/// <param name="Proof">The partner's own revocation: its answer to the challenge for this revocation.</param>
/// <param name="Reason">Why (required of an operator).</param>
public sealed record KeyRevocationRequest(string? Proof, string? Reason);

/// <summary>
/// Partners' encryption keys with a lifecycle (<see cref="RecipientKeySet"/>): a partner lists, registers and revokes its
/// own keys (role <c>Feed.Read</c>, its own organisation only: anyone else's is 404), proving possession of its current
/// key for every change (<see cref="KeyPossession"/>); the broker's operators (role <c>Deliveries.Operate</c>, honoured
/// for <c>Operations:Organisations</c> only) do the same for any partner without a proof, giving a reason. Every change
/// is written to the registry (<see cref="PartnerKeyRegistry"/>) and recorded in the ledger through the outbox
/// (<see cref="PartnerKeyRegistered"/>, <see cref="PartnerKeyRevoked"/>).
/// </summary>
public static class PartnerKeysApi
{
    private const int MaxProofLength = 16 * 1024;
    private const string Register = "register";
    private const string Revoke = "revoke";

    public static IEndpointRouteBuilder MapPartnerKeysApi(this IEndpointRouteBuilder app)
    {
        var own = app.MapGroup("/api/v1/partners/{partner}/keys").RequireAuthorization(Roles.FeedRead);
        own.MapGet("/", ListOwn);
        own.MapPost("/challenge", Challenge).Accepts<KeyChallengeRequest>("application/json")
            .ProducesProblem(StatusCodes.Status409Conflict).ProducesProblem(StatusCodes.Status413PayloadTooLarge)
            .ProducesProblem(StatusCodes.Status415UnsupportedMediaType).ProducesProblem(StatusCodes.Status503ServiceUnavailable);
        own.MapPost("/", RegisterOwn).Accepts<KeyRegistrationRequest>("application/json")
            .ProducesProblem(StatusCodes.Status409Conflict).ProducesProblem(StatusCodes.Status413PayloadTooLarge)
            .ProducesProblem(StatusCodes.Status415UnsupportedMediaType).ProducesProblem(StatusCodes.Status503ServiceUnavailable);
        own.MapPost("/{keyId}/revoke", RevokeOwn).Accepts<KeyRevocationRequest>("application/json")
            .ProducesProblem(StatusCodes.Status409Conflict).ProducesProblem(StatusCodes.Status413PayloadTooLarge)
            .ProducesProblem(StatusCodes.Status415UnsupportedMediaType).ProducesProblem(StatusCodes.Status503ServiceUnavailable);

        var operators = app.MapGroup("/api/v1/operations/partners/{partner}/keys").RequireAuthorization(Roles.DeliveriesOperate);
        operators.MapGet("/", List);
        operators.MapPost("/", RegisterAsOperator).Accepts<KeyRegistrationRequest>("application/json")
            .ProducesProblem(StatusCodes.Status409Conflict).ProducesProblem(StatusCodes.Status413PayloadTooLarge)
            .ProducesProblem(StatusCodes.Status415UnsupportedMediaType).ProducesProblem(StatusCodes.Status503ServiceUnavailable);
        operators.MapPost("/{keyId}/revoke", RevokeAsOperator).Accepts<KeyRevocationRequest>("application/json")
            .ProducesProblem(StatusCodes.Status409Conflict).ProducesProblem(StatusCodes.Status413PayloadTooLarge)
            .ProducesProblem(StatusCodes.Status415UnsupportedMediaType).ProducesProblem(StatusCodes.Status503ServiceUnavailable);
        return app;
    }

    /// <summary>The partner's own keys.</summary>
    public static Results<Ok<PartnerKeysView>, NotFound> ListOwn(
        string partner, ClaimsPrincipal user, PartnerKeys keys, PolicySetMonitor policies, TimeProvider time) =>
        IsSelf(user, partner, policies) ? TypedResults.Ok(View(partner, keys.Read(partner), time.GetUtcNow())) : TypedResults.NotFound();

    /// <summary>An operator's view of any partner's keys.</summary>
    public static Results<Ok<PartnerKeysView>, NotFound> List(string partner, PartnerKeys keys, PolicySetMonitor policies, TimeProvider time) =>
        IsPartner(partner, policies) ? TypedResults.Ok(View(partner, keys.Read(partner), time.GetUtcNow())) : TypedResults.NotFound();

    /// <summary>
    /// A challenge for one change the partner means to make, sealed to its current key (the newest valid one): the first
    /// step of registering or revoking a key of its own.
    /// </summary>
    public static async Task<Results<Ok<KeyChallengeView>, NotFound, ValidationProblem, ProblemHttpResult>> Challenge(
        string partner, HttpRequest request, ClaimsPrincipal user, PartnerKeys keys, PolicySetMonitor policies, IKeyRing ring, TimeProvider time,
        CancellationToken cancellationToken)
    {
        if (!IsSelf(user, partner, policies))
        {
            return TypedResults.NotFound();
        }
        var (read, invalid, refused) = await ReadBodyAsync(request, cancellationToken);
        if (read is not { } body)
        {
            return invalid is not null ? invalid : refused!;
        }
        var now = time.GetUtcNow();
        var errors = new Dictionary<string, string[]>();
        string? intent = null;
        var (set, unusable) = keys.Read(partner);
        switch (Text(body, "action", errors, required: true))
        {
            case Register:
                if (ReadRegistration(body, now, errors) is { } registration)
                {
                    intent = registration.Intent(partner);
                    if (set?.ConflictOf(registration.Key) is { } conflict)
                    {
                        return KeyConflict(conflict);
                    }
                }
                break;
            case Revoke:
                if (Text(body, "keyId", errors, required: true) is { } keyId)
                {
                    intent = KeyPossession.RevokeIntent(partner, keyId);
                    if (set is not null && set.Keys.All(k => k.KeyId != keyId || k.Revoked))
                    {
                        errors["keyId"] = ["None of your keys that are not revoked has this kid."];
                    }
                }
                break;
            case null:
                break;
            default:
                errors["action"] = [$"One of {Register}, {Revoke}."];
                break;
        }
        if (errors.Count > 0)
        {
            return Problems.Validation(errors);
        }
        if (set is null)
        {
            return Unusable(unusable!);
        }
        if (set.Current(now)?.Key is not { } current)
        {
            return Problems.Status(StatusCodes.Status409Conflict, "no-valid-key", "You have no valid key to prove possession of.",
                "Ask the broker's operators to register your new key (POST /api/v1/operations/partners/{partner}/keys).");
        }
        var challenge = KeyPossession.Issue(ring, current, partner, intent!, now);
        return TypedResults.Ok(new KeyChallengeView(challenge.Challenge, challenge.SealedTo, challenge.ExpiresAt, intent!));
    }

    /// <summary>The partner registers a new key of its own, with the proof of possession of its current key.</summary>
    public static async Task<Results<Created<PartnerKeyView>, NotFound, ValidationProblem, ProblemHttpResult>> RegisterOwn(
        string partner, HttpRequest request, ClaimsPrincipal user, PolicySetMonitor policies, PartnerKeyRegistry registry, IKeyRing ring,
        GatewayWriter writer, OutboxSignal outbox, TimeProvider time, ILoggerFactory loggers, CancellationToken cancellationToken)
    {
        if (!IsSelf(user, partner, policies))
        {
            return TypedResults.NotFound();
        }
        var now = time.GetUtcNow();
        var (read, invalid, refused) = await ReadBodyAsync(request, cancellationToken);
        if (read is not { } body)
        {
            return invalid is not null ? invalid : refused!;
        }
        var errors = new Dictionary<string, string[]>();
        var registration = ReadRegistration(body, now, errors);
        var proof = ReadProof(body, errors);
        if (errors.Count > 0)
        {
            return Problems.Validation(errors);
        }
        var intent = registration!.Intent(partner);
        return await RegisterAsync(partner, registration, user.Actor(), PartnerKeyAuthority.Partner, null,
            set => Prove(set, proof!, ring, partner, intent, now), registry, writer, outbox, now, loggers, cancellationToken);
    }

    /// <summary>An operator registers a new key for a partner, giving a reason.</summary>
    public static async Task<Results<Created<PartnerKeyView>, NotFound, ValidationProblem, ProblemHttpResult>> RegisterAsOperator(
        string partner, HttpRequest request, ClaimsPrincipal user, PolicySetMonitor policies, PartnerKeyRegistry registry,
        GatewayWriter writer, OutboxSignal outbox, TimeProvider time, ILoggerFactory loggers, CancellationToken cancellationToken)
    {
        if (!IsPartner(partner, policies))
        {
            return TypedResults.NotFound();
        }
        var now = time.GetUtcNow();
        var (read, invalid, refused) = await ReadBodyAsync(request, cancellationToken);
        if (read is not { } body)
        {
            return invalid is not null ? invalid : refused!;
        }
        var errors = new Dictionary<string, string[]>();
        var registration = ReadRegistration(body, now, errors);
        var reason = ReadReason(body, errors, required: true);
        if (errors.Count > 0)
        {
            return Problems.Validation(errors);
        }
        return await RegisterAsync(partner, registration!, user.Actor(), PartnerKeyAuthority.Operator, reason,
            _ => (null, null), registry, writer, outbox, now, loggers, cancellationToken);
    }

    /// <summary>The partner revokes a key of its own, with the proof of possession of its current key.</summary>
    public static async Task<Results<Ok<PartnerKeyView>, NotFound, ValidationProblem, ProblemHttpResult>> RevokeOwn(
        string partner, string keyId, HttpRequest request, ClaimsPrincipal user, PolicySetMonitor policies, PartnerKeyRegistry registry,
        IKeyRing ring, GatewayWriter writer, OutboxSignal outbox, TimeProvider time, ILoggerFactory loggers, CancellationToken cancellationToken)
    {
        if (!IsSelf(user, partner, policies))
        {
            return TypedResults.NotFound();
        }
        var now = time.GetUtcNow();
        var (read, invalid, refused) = await ReadBodyAsync(request, cancellationToken);
        if (read is not { } body)
        {
            return invalid is not null ? invalid : refused!;
        }
        var errors = new Dictionary<string, string[]>();
        var proof = ReadProof(body, errors);
        var reason = ReadReason(body, errors, required: false);
        if (errors.Count > 0)
        {
            return Problems.Validation(errors);
        }
        var intent = KeyPossession.RevokeIntent(partner, keyId);
        return await RevokeAsync(partner, keyId, user.Actor(), PartnerKeyAuthority.Partner, reason,
            set => Prove(set, proof!, ring, partner, intent, now), registry, writer, outbox, now, loggers, cancellationToken);
    }

    /// <summary>An operator revokes a partner's key, giving a reason.</summary>
    public static async Task<Results<Ok<PartnerKeyView>, NotFound, ValidationProblem, ProblemHttpResult>> RevokeAsOperator(
        string partner, string keyId, HttpRequest request, ClaimsPrincipal user, PolicySetMonitor policies, PartnerKeyRegistry registry,
        GatewayWriter writer, OutboxSignal outbox, TimeProvider time, ILoggerFactory loggers, CancellationToken cancellationToken)
    {
        if (!IsPartner(partner, policies))
        {
            return TypedResults.NotFound();
        }
        var now = time.GetUtcNow();
        var (read, invalid, refused) = await ReadBodyAsync(request, cancellationToken);
        if (read is not { } body)
        {
            return invalid is not null ? invalid : refused!;
        }
        var errors = new Dictionary<string, string[]>();
        var reason = ReadReason(body, errors, required: true);
        if (errors.Count > 0)
        {
            return Problems.Validation(errors);
        }
        return await RevokeAsync(partner, keyId, user.Actor(), PartnerKeyAuthority.Operator, reason,
            _ => (null, null), registry, writer, outbox, now, loggers, cancellationToken);
    }

    /// <summary>A key to register: <see cref="NotBefore"/> is when it becomes valid (the request's, or now); the intent a proof is for names
    /// the request's own not-before (or "registration"), so a challenge asked for a second before the registration still holds.</summary>
    private sealed record Registration(RecipientKey Key, System.Text.Json.Nodes.JsonObject Registered, DateTimeOffset NotBefore, DateTimeOffset? Expires,
        DateTimeOffset? RequestedNotBefore)
    {
        public string Intent(string partner) => KeyPossession.RegisterIntent(partner, Key.Thumbprint, RequestedNotBefore, Expires);
    }

    /// <summary>What the change answers when a proof does not hold (null: it holds, or none is needed), and the key it proved.</summary>
    private delegate (ValidationProblem? Refused, string? ProvedWith) Authorise(RecipientKeySet set);

    private static async Task<Results<Created<PartnerKeyView>, NotFound, ValidationProblem, ProblemHttpResult>> RegisterAsync(
        string partner, Registration registration, string by, string authority, string? reason, Authorise authorise,
        PartnerKeyRegistry registry, GatewayWriter writer, OutboxSignal outbox, DateTimeOffset now, ILoggerFactory loggers, CancellationToken cancellationToken)
    {
        PartnerKeyRegistered? recorded = null;
        try
        {
            var result = await registry.ChangeAsync<Results<Created<PartnerKeyView>, NotFound, ValidationProblem, ProblemHttpResult>>(partner, read =>
            {
                if (read.Set is not { } set)
                {
                    return new(null, Unusable(read.Problem!));
                }
                if (set.ConflictOf(registration.Key) is { } conflict)
                {
                    return new(null, KeyConflict(conflict));
                }
                var (refused, provedWith) = authorise(set);
                if (refused is not null)
                {
                    return new(null, refused);
                }
                recorded = new PartnerKeyRegistered
                {
                    Partner = partner,
                    KeyId = registration.Key.KeyId,
                    Thumbprint = registration.Key.Thumbprint,
                    KeyType = TypeOf(registration.Key),
                    NotBefore = registration.NotBefore,
                    Expires = registration.Expires,
                    RegisteredBy = by,
                    Authority = authority,
                    ProvedWith = provedWith,
                    Reason = reason,
                    At = now,
                };
                var text = set.WithKey(registration.Registered, registration.NotBefore, registration.Expires);
                var added = RecipientKeySet.Parse(text).Keys[^1];
                return new(text, TypedResults.Created($"/api/v1/partners/{partner}/keys", ViewOf(added, now, current: false)));
            }, _ => RecordAsync(writer, recorded!, now), cancellationToken);
            if (recorded is not null)
            {
                outbox.Notify();
                loggers.CreateLogger(typeof(PartnerKeysApi).FullName!).LogInformation(
                    "Key {KeyId} registered for partner {Partner} by {Actor} ({Authority})", recorded.KeyId, partner, by, authority);
            }
            return result;
        }
        catch (PartnerRegistryUnavailableException e)
        {
            return Unavailable(e);
        }
    }

    private static async Task<Results<Ok<PartnerKeyView>, NotFound, ValidationProblem, ProblemHttpResult>> RevokeAsync(
        string partner, string keyId, string by, string authority, string? reason, Authorise authorise,
        PartnerKeyRegistry registry, GatewayWriter writer, OutboxSignal outbox, DateTimeOffset now, ILoggerFactory loggers, CancellationToken cancellationToken)
    {
        PartnerKeyRevoked? recorded = null;
        try
        {
            var result = await registry.ChangeAsync<Results<Ok<PartnerKeyView>, NotFound, ValidationProblem, ProblemHttpResult>>(partner, read =>
            {
                if (read.Set is not { } set)
                {
                    return new(null, Unusable(read.Problem!));
                }
                var target = set.Keys.FirstOrDefault(k => k.KeyId == keyId);
                if (target is null)
                {
                    return new(null, set.Revoked.Any(k => k.KeyId == keyId)
                        ? Problems.Status(StatusCodes.Status409Conflict, "key-revoked", "This key is already revoked.")
                        : TypedResults.NotFound());
                }
                var (refused, provedWith) = authorise(set);
                if (refused is not null)
                {
                    return new(null, refused);
                }
                recorded = new PartnerKeyRevoked
                {
                    Partner = partner,
                    KeyId = keyId,
                    Thumbprint = target.Thumbprint ?? keyId,
                    RevokedBy = by,
                    Authority = authority,
                    ProvedWith = provedWith,
                    Reason = reason,
                    At = now,
                };
                var text = set.WithRevoked(keyId, now);
                var revoked = RecipientKeySet.Parse(text).Revoked[^1];
                return new(text, TypedResults.Ok(ViewOf(revoked, now, current: false)));
            }, _ => RecordAsync(writer, recorded!, now), cancellationToken);
            if (recorded is not null)
            {
                outbox.Notify();
                loggers.CreateLogger(typeof(PartnerKeysApi).FullName!).LogInformation(
                    "Key {KeyId} of partner {Partner} revoked by {Actor} ({Authority})", keyId, partner, by, authority);
            }
            return result;
        }
        catch (PartnerRegistryUnavailableException e)
        {
            return Unavailable(e);
        }
    }

    /// <summary>
    /// The ledger event, in the outbox, committed by the gateway's writer before the registry's new file takes effect. Waited
    /// for whatever the caller does: a change handed to the writer may still commit, and the file must then follow it.
    /// </summary>
    private static Task RecordAsync<T>(GatewayWriter writer, T message, DateTimeOffset now) where T : class
    {
        var messageId = Guid.NewGuid();
        return writer.WriteAsync((target, _) =>
        {
            target.Enqueue(message, messageId, now);
            return Task.CompletedTask;
        }, CancellationToken.None);
    }

    /// <summary>
    /// A partner's proof: a challenge the gateway issued for exactly this change, decrypted, whose key is still a valid key of
    /// the partner (checked on the set as it is now, under the registry's lock).
    /// </summary>
    private static (ValidationProblem? Refused, string? ProvedWith) Prove(
        RecipientKeySet set, string proof, IKeyRing ring, string partner, string intent, DateTimeOffset now)
    {
        string provedWith;
        try
        {
            provedWith = KeyPossession.Verify(proof, ring, partner, intent, now);
        }
        catch (SealException e)
        {
            return (ProofProblem(e.Message), null);
        }
        return set.Keys.Any(k => k.Thumbprint == provedWith && k.StateAt(now) == RecipientKeyState.Valid)
            ? (null, provedWith)
            : (ProofProblem("The key the challenge was sealed to is no longer a valid key of yours; ask for a new challenge."), null);
    }

    private static ValidationProblem ProofProblem(string message) =>
        Problems.Validation(new Dictionary<string, string[]> { ["proof"] = [message] });

    private static bool IsPartner(string partner, PolicySetMonitor policies) => policies.Current.Partners.ContainsKey(partner);

    /// <summary>The caller's own organisation, a partner of the policy set: anything else is answered 404, as if it did not exist.</summary>
    private static bool IsSelf(ClaimsPrincipal user, string partner, PolicySetMonitor policies) =>
        user.Organisation() == partner && IsPartner(partner, policies);

    private static PartnerKeysView View(string partner, PartnerKeySetRead read, DateTimeOffset now)
    {
        if (read.Set is not { } set)
        {
            return new PartnerKeysView(partner, null, [], read.Problem);
        }
        var current = set.Current(now);
        return new PartnerKeysView(partner, current?.KeyId,
            [.. set.Keys.Concat(set.Revoked).Select(k => ViewOf(k, now, ReferenceEquals(k, current)))], null);
    }

    private static PartnerKeyView ViewOf(RecipientKeyEntry key, DateTimeOffset now, bool current) =>
        new(key.KeyId, key.Thumbprint, key.Type, key.NotBefore, key.Expires, key.RevokedAt, key.StateAt(now), current, key.Problem);

    private static string TypeOf(RecipientKey key) => key.Kind == KeyKind.EC ? $"EC P-{key.KeySize}" : $"RSA {key.KeySize}";

    /// <summary>The new key and its lifetime (whole seconds, as the registry keeps them); null with the errors named.</summary>
    private static Registration? ReadRegistration(JsonElement body, DateTimeOffset now, Dictionary<string, string[]> errors)
    {
        Registration? registration = null;
        var requested = Instant(body, "notBefore", errors);
        var notBefore = requested ?? Seconds(now);
        var expires = Instant(body, "expires", errors);
        if (!body.TryGetProperty("key", out var key) || key.ValueKind != JsonValueKind.Object)
        {
            errors["key"] = ["Required: the new public JWK (EC P-256 or P-384, or RSA of at least 2048 bits, for encryption)."];
        }
        else
        {
            try
            {
                var (registered, recipient) = RecipientKeySet.ReadNewKey(key.GetRawText());
                registration = new Registration(recipient, registered, notBefore, expires, requested);
            }
            catch (SealException e)
            {
                errors["key"] = [e.Message];
            }
        }
        if (expires is { } until && !errors.ContainsKey("expires"))
        {
            if (until <= now)
            {
                errors["expires"] = ["Must be in the future: a key that has expired is never used."];
            }
            else if (until <= notBefore)
            {
                errors["expires"] = ["Must be after notBefore."];
            }
        }
        return errors.Count == 0 ? registration : null;
    }

    private static DateTimeOffset? Instant(JsonElement body, string name, Dictionary<string, string[]> errors)
    {
        if (!body.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null)
        {
            return null;
        }
        if (value.ValueKind == JsonValueKind.String && DateTimeOffset.TryParse(value.GetString(), CultureInfo.InvariantCulture,
                DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var instant) && instant.Year is > 1970 and < 10000)
        {
            return Seconds(instant);
        }
        errors[name] = ["An ISO-8601 instant, e.g. 2027-01-01T00:00:00Z."];
        return null;
    }

    /// <summary>An instant to the whole second (the registry keeps NumericDates), so what is proved is what is written.</summary>
    private static DateTimeOffset Seconds(DateTimeOffset at) => DateTimeOffset.FromUnixTimeSeconds(at.ToUnixTimeSeconds());

    private static string? ReadProof(JsonElement body, Dictionary<string, string[]> errors)
    {
        var proof = Text(body, "proof", errors, required: false);
        if (proof is null || proof.Length > MaxProofLength)
        {
            errors["proof"] = ["Required: your answer to the challenge for this change (POST …/keys/challenge), decrypted with your current key."];
            return null;
        }
        return proof;
    }

    private static string? ReadReason(JsonElement body, Dictionary<string, string[]> errors, bool required)
    {
        var reason = Text(body, "reason", errors, required);
        if (reason is not null && (reason.Trim().Length == 0 || reason.Length > RecallApi.MaxReasonLength || !Justification.IsPlainText(reason)))
        {
            errors["reason"] = [$"1 to {RecallApi.MaxReasonLength} characters, without control characters."];
            return null;
        }
        return reason?.Trim();
    }

    private static string? Text(JsonElement body, string name, Dictionary<string, string[]> errors, bool required)
    {
        if (body.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String)
        {
            return value.GetString();
        }
        if (required || (body.TryGetProperty(name, out value) && value.ValueKind != JsonValueKind.Null))
        {
            errors[name] = [required ? "Required: a string." : "Must be a string."];
        }
        return null;
    }

    /// <summary>The body as a JSON object; or why not: invalid (malformed, not an object) or refused (not JSON, too large).</summary>
    private static async Task<(JsonElement? Body, ValidationProblem? Invalid, ProblemHttpResult? Refused)> ReadBodyAsync(
        HttpRequest request, CancellationToken cancellationToken)
    {
        var (document, problem) = await JsonBody.ReadAsync(request, cancellationToken);
        if (document is null)
        {
            return problem is ValidationProblem invalid ? (null, invalid, null) : (null, null, (ProblemHttpResult)problem!);
        }
        using (document)
        {
            return document.RootElement.ValueKind == JsonValueKind.Object
                ? (document.RootElement.Clone(), null, null)
                : (null, Problems.Validation(new Dictionary<string, string[]> { ["$"] = ["The body must be a JSON object."] }), null);
        }
    }

    private static ProblemHttpResult KeyConflict(string detail) =>
        Problems.Status(StatusCodes.Status409Conflict, "key-conflict", "The key cannot be registered.", detail);

    private static ProblemHttpResult Unusable(string detail) =>
        Problems.Status(StatusCodes.Status409Conflict, "key-set-unusable", "The partner's registered key set cannot be read, so it cannot be changed here.",
            detail + " The broker's operators must repair the file.");

    private static ProblemHttpResult Unavailable(PartnerRegistryUnavailableException e) =>
        Problems.Status(StatusCodes.Status503ServiceUnavailable, "partner-registry-unavailable", e.Message);
}
