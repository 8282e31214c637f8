using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.EntityFrameworkCore.Storage.ValueConversion;

namespace TOEX.Sharing.Gateway.Data;

/// <summary>What the policy decision said for one recipient (stored and sent as <c>permit</c>, <c>refer</c>, <c>deny</c>).</summary>
[JsonConverter(typeof(StateJson<Outcome>))]
public enum Outcome
{
    Permit,
    Refer,
    Deny,
}

/// <summary>Where a recipient's copy is in its life (the recipient's life, in the core, owns the transitions).</summary>
[JsonConverter(typeof(StateJson<DeliveryState>))]
public enum DeliveryState
{
    Pending,
    AwaitingReferral,
    Withheld,
    /// <summary>Permitted, but not released while the audit ledger lags (fail closed); released once it catches up.</summary>
    Held,
    Released,
    /// <summary>The recipient has it: its endpoint accepted the push, or its feed returned it.</summary>
    Delivered,
    Acknowledged,
    Failed,
    /// <summary>The push was given up (horizon passed or endpoint disabled); the copy is still on the feed.</summary>
    DeadLettered,
    /// <summary>Recalled before it reached the recipient: withdrawn from its feed and push, never delivered.</summary>
    Withdrawn,
}

/// <summary>What a recall did for one recipient.</summary>
[JsonConverter(typeof(StateJson<RecallAction>))]
public enum RecallAction
{
    /// <summary>It had the package: a recall notice is sent by its channel.</summary>
    Notified,
    /// <summary>It had not: its push is cancelled and its feed item never served; it never receives the package.</summary>
    Withdrawn,
    /// <summary>A push of the package was under way: notified if that push is accepted, otherwise withdrawn.</summary>
    Pending,
}

/// <summary>Where one push of a feed item is.</summary>
[JsonConverter(typeof(StateJson<PushState>))]
public enum PushState
{
    Pending,
    Sending,
    Delivered,
    DeadLettered,
    Cancelled,
}

/// <summary>What a feed item (and its push) carries: the package's copy, or its recall notice.</summary>
[JsonConverter(typeof(StateJson<ItemKind>))]
public enum ItemKind
{
    Package,
    Recall,
}

/// <summary>
/// The one home of the text a state is stored and sent as: its name in kebab case (<c>AwaitingReferral</c> is
/// <c>awaiting-referral</c>), exactly the strings the store and the API held before the states were enums.
/// </summary>
public static class StateText
{
    public static readonly JsonNamingPolicy Naming = JsonNamingPolicy.KebabCaseLower;

    public static string Text<T>(this T value) where T : struct, Enum => StateText<T>.ToText[value];

    /// <summary>The state a text names, or null when it names none (input from a caller or another service).</summary>
    public static T? Parse<T>(string? text) where T : struct, Enum =>
        text is not null && StateText<T>.FromText.TryGetValue(text, out var value) ? value : null;
}

internal static class StateText<T> where T : struct, Enum
{
    public static readonly IReadOnlyDictionary<T, string> ToText = Enum.GetValues<T>().ToDictionary(v => v, v => StateText.Naming.ConvertName(v.ToString()));
    public static readonly IReadOnlyDictionary<string, T> FromText = ToText.ToDictionary(p => p.Value, p => p.Key, StringComparer.Ordinal);

    public static T FromStore(string text) => FromText.TryGetValue(text, out var value) ? value
        : throw new InvalidOperationException($"The store holds '{text}', which is not a {typeof(T).Name}.");
}

/// <summary>Sends a state as its text (<see cref="StateText"/>); a text that names no state is refused.</summary>
public sealed class StateJson<T>() : JsonStringEnumConverter<T>(StateText.Naming, allowIntegerValues: false) where T : struct, Enum;

/// <summary>Stores a state as its text (<see cref="StateText"/>), so the store's rows are what they were.</summary>
public sealed class StateConverter<T>() : ValueConverter<T, string>(v => StateText<T>.ToText[v], s => StateText<T>.FromStore(s))
    where T : struct, Enum;
