using System.Reflection;
using Microsoft.AspNetCore.Mvc;
using TOEX.Sharing.ServiceDefaults;

namespace TOEX.Sharing.Audit.Apis;

/// <summary>
/// Refuses a request naming a query parameter its route does not take (400, problem+json naming each), so a
/// misspelt filter (<c>?packge=…</c>) is never silently ignored into a wider answer. The names a route takes are
/// read from its handler: its <c>[FromQuery]</c> parameters and the <c>[FromQuery]</c> properties of its
/// <c>[AsParameters]</c> types, plus <c>justification</c>, which every route takes (DPA 2018 s62).
/// </summary>
public static class QueryParameters
{
    public static TBuilder RefuseUnknownQueryParameters<TBuilder>(this TBuilder builder) where TBuilder : IEndpointConventionBuilder
    {
        builder.AddEndpointFilterFactory((context, next) =>
        {
            var allowed = Allowed(context.MethodInfo);
            return invocation =>
            {
                var unknown = invocation.HttpContext.Request.Query.Keys.Where(key => !allowed.Contains(key)).Order(StringComparer.Ordinal).ToList();
                if (unknown.Count == 0)
                {
                    return next(invocation);
                }
                var known = allowed.Count == 0 ? "none" : string.Join(", ", allowed.Order(StringComparer.Ordinal));
                return ValueTask.FromResult<object?>(Problems.Validation(unknown.ToDictionary(
                    key => key, _ => new[] { $"Unknown query parameter; this route takes: {known}." }, StringComparer.Ordinal)));
            };
        });
        return builder;
    }

    /// <summary>The query parameters a handler binds, case-insensitively (as ASP.NET Core binds them).</summary>
    public static HashSet<string> Allowed(MethodInfo handler)
    {
        ArgumentNullException.ThrowIfNull(handler);
        var names = new HashSet<string>(StringComparer.OrdinalIgnoreCase) { Justification.Parameter };
        foreach (var parameter in handler.GetParameters())
        {
            if (parameter.GetCustomAttribute<FromQueryAttribute>() is { } query)
            {
                names.Add(query.Name ?? parameter.Name!);
            }
            else if (parameter.GetCustomAttribute<AsParametersAttribute>() is not null)
            {
                foreach (var (name, attribute) in BoundProperties(parameter.ParameterType))
                {
                    names.Add(attribute.Name ?? name);
                }
            }
        }
        return names;
    }

    private static IEnumerable<(string Name, FromQueryAttribute Attribute)> BoundProperties(Type type)
    {
        // Record parameters carry their attributes on the constructor parameter; plain properties on the property.
        foreach (var parameter in type.GetConstructors().SelectMany(c => c.GetParameters()))
        {
            if (parameter.GetCustomAttribute<FromQueryAttribute>() is { } attribute)
            {
                yield return (parameter.Name!, attribute);
            }
        }
        foreach (var property in type.GetProperties())
        {
            if (property.GetCustomAttribute<FromQueryAttribute>() is { } attribute)
            {
                yield return (property.Name, attribute);
            }
        }
    }
}
