using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.OpenApi;

namespace TOEX.Sharing.ServiceDefaults;

/// <summary>
/// A service's OpenAPI 3.1 description (ASP.NET Core's OpenAPI support), served anonymously at
/// <see cref="Path"/>: every route with its role (a security requirement naming it: OpenAPI 3.1 lets a bearer
/// scheme's requirement list role names), its request and response shapes, and the problem+json (RFC 9457)
/// answers every route can give (401 and 403 where a token or role is needed, 429 past the rate limit, 503 when a
/// request times out, 500). <c>/health</c> and <c>/alive</c> are described too.
/// </summary>
public static class OpenApiDescription
{
    public const string DocumentName = "v1";

    /// <summary>Where the description is served (anonymous).</summary>
    public const string Path = "/openapi/" + DocumentName + ".json";

    /// <summary>The security scheme every protected route names: a bearer access token (JWT) of a trusted issuer.</summary>
    public const string BearerScheme = "bearer";

    private const string ProblemJson = "application/problem+json";
    private static readonly string[] HealthStatuses = ["Healthy", "Degraded", "Unhealthy"];

    public static IHostApplicationBuilder AddToexOpenApi(this IHostApplicationBuilder builder, string title, string description)
    {
        builder.Services.AddOpenApi(DocumentName, options =>
        {
            options.OpenApiVersion = OpenApiSpecVersion.OpenApi3_1;
            options.AddDocumentTransformer((document, _, _) =>
            {
                document.Info = new OpenApiInfo { Title = title, Version = DocumentName, Description = description };
                document.Components ??= new OpenApiComponents();
                document.Components.SecuritySchemes ??= new Dictionary<string, IOpenApiSecurityScheme>();
                document.Components.SecuritySchemes[BearerScheme] = new OpenApiSecurityScheme
                {
                    Type = SecuritySchemeType.Http,
                    Scheme = "bearer",
                    BearerFormat = "JWT",
                    Description = "An access token of an issuer trusted under Authentication:Issuers, speaking for the caller's "
                        + "organisation; the roles come from its roles claim. Each operation's requirement names the role it needs.",
                };
                DescribeHealth(document);
                DescribeItself(document);
                return Task.CompletedTask;
            });
            options.AddOperationTransformer(DescribeAccessAndProblemsAsync);
        });
        return builder;
    }

    /// <summary>Serves the description at <see cref="Path"/>, to anyone.</summary>
    public static IEndpointConventionBuilder MapToexOpenApi(this WebApplication app) =>
        app.MapOpenApi(Path.Replace(DocumentName, "{documentName}", StringComparison.Ordinal)).AllowAnonymous();

    /// <summary>The route's role as a security requirement, and the problem answers it can give.</summary>
    private static async Task DescribeAccessAndProblemsAsync(OpenApiOperation operation, OpenApiOperationTransformerContext context, CancellationToken cancellationToken)
    {
        var metadata = context.Description.ActionDescriptor.EndpointMetadata;
        var anonymous = metadata.OfType<IAllowAnonymous>().Any();
        var authorize = metadata.OfType<IAuthorizeData>().ToList();
        operation.Responses ??= [];
        if (!anonymous && authorize.Count > 0)
        {
            var roles = authorize.Select(a => a.Policy).OfType<string>().Distinct(StringComparer.Ordinal).ToList();
            operation.Security = [new OpenApiSecurityRequirement { [new OpenApiSecuritySchemeReference(BearerScheme, context.Document)] = roles }];
            operation.Description = Append(operation.Description, roles.Count == 0
                ? "Who: any authenticated caller (bearer access token); what it may see is limited to its organisation."
                : $"Who: role {string.Join(" and ", roles)} (bearer access token).");
            await AddProblemAsync(operation, context, StatusCodes.Status401Unauthorized, "No valid access token of a trusted issuer.", cancellationToken);
            if (roles.Count > 0)
            {
                await AddProblemAsync(operation, context, StatusCodes.Status403Forbidden, $"The token lacks the role {string.Join(" and ", roles)}, or the organisation may not do this.", cancellationToken);
            }
        }
        else
        {
            operation.Security = [];
            operation.Description = Append(operation.Description, "Who: anyone (no token).");
        }
        await AddProblemAsync(operation, context, StatusCodes.Status429TooManyRequests, "Too many requests from this caller in the window; see Retry-After.", cancellationToken);
        await AddProblemAsync(operation, context, StatusCodes.Status503ServiceUnavailable, "The request took too long or a dependency is unavailable; see Retry-After.", cancellationToken);
        await AddProblemAsync(operation, context, StatusCodes.Status500InternalServerError, "An unexpected error (no detail is given).", cancellationToken);

        // Problem answers the route declares with a plain status (404 from TypedResults.NotFound) carry problem+json too.
        foreach (var (status, response) in operation.Responses)
        {
            if (status.Length == 3 && status[0] is '4' or '5' && response is OpenApiResponse { Content: null or { Count: 0 } } plain)
            {
                plain.Content = new Dictionary<string, OpenApiMediaType> { [ProblemJson] = new() { Schema = await ProblemSchemaAsync(context, cancellationToken) } };
            }
        }
    }

    private static async Task AddProblemAsync(OpenApiOperation operation, OpenApiOperationTransformerContext context, int status, string description, CancellationToken cancellationToken)
    {
        var key = status.ToString(System.Globalization.CultureInfo.InvariantCulture);
        if (operation.Responses!.ContainsKey(key))
        {
            return;
        }
        operation.Responses[key] = new OpenApiResponse
        {
            Description = description,
            Content = new Dictionary<string, OpenApiMediaType> { [ProblemJson] = new() { Schema = await ProblemSchemaAsync(context, cancellationToken) } },
        };
    }

    private static async Task<IOpenApiSchema> ProblemSchemaAsync(OpenApiOperationTransformerContext context, CancellationToken cancellationToken)
    {
        const string name = nameof(ProblemDetails);
        if (context.Document is { } document)
        {
            document.Components ??= new OpenApiComponents();
            document.Components.Schemas ??= new Dictionary<string, IOpenApiSchema>();
            if (!document.Components.Schemas.ContainsKey(name))
            {
                document.Components.Schemas[name] = await context.GetOrCreateSchemaAsync(typeof(ProblemDetails), null, cancellationToken);
            }
            return new OpenApiSchemaReference(name, document);
        }
        return await context.GetOrCreateSchemaAsync(typeof(ProblemDetails), null, cancellationToken);
    }

    /// <summary><c>/health</c> (readiness: every check) and <c>/alive</c> (liveness), which health checks map outside the API description.</summary>
    private static void DescribeHealth(OpenApiDocument document)
    {
        var schema = new OpenApiSchema
        {
            Type = JsonSchemaType.Object,
            Required = new HashSet<string> { "status", "checks", "reasons" },
            Properties = new Dictionary<string, IOpenApiSchema>
            {
                ["status"] = new OpenApiSchema { Type = JsonSchemaType.String, Enum = [.. HealthStatuses.Select(s => (System.Text.Json.Nodes.JsonNode)s)] },
                ["checks"] = new OpenApiSchema { Type = JsonSchemaType.Object, AdditionalProperties = new OpenApiSchema { Type = JsonSchemaType.String } },
                ["reasons"] = new OpenApiSchema { Type = JsonSchemaType.Object, AdditionalProperties = new OpenApiSchema { Type = JsonSchemaType.String } },
            },
        };
        document.Paths ??= [];
        foreach (var (path, summary) in new[]
        {
            ("/health", "Readiness: every check (broker and store included). 200 when healthy or degraded, 503 when unhealthy."),
            ("/alive", "Liveness: the process answers. 200 while it runs."),
        })
        {
            OpenApiResponse Answer(string description) => new()
            {
                Description = description,
                Content = new Dictionary<string, OpenApiMediaType> { ["application/json"] = new() { Schema = schema } },
            };
            document.Paths[path] = new OpenApiPathItem
            {
                Operations = new Dictionary<HttpMethod, OpenApiOperation>
                {
                    [HttpMethod.Get] = new()
                    {
                        OperationId = path.TrimStart('/'),
                        Summary = summary,
                        Description = "Who: anyone (no token).",
                        Tags = new HashSet<OpenApiTagReference> { new("health", document) },
                        Security = [],
                        Responses = new OpenApiResponses { ["200"] = Answer("Healthy or degraded."), ["503"] = Answer("Unhealthy.") },
                    },
                },
            };
        }
    }

    /// <summary>The description's own route (<c>/openapi/{documentName}.json</c>), which MapOpenApi leaves out of it.</summary>
    private static void DescribeItself(OpenApiDocument document)
    {
        document.Paths![Path.Replace(DocumentName, "{documentName}", StringComparison.Ordinal)] = new OpenApiPathItem
        {
            Parameters = [new OpenApiParameter { Name = "documentName", In = ParameterLocation.Path, Required = true, Schema = new OpenApiSchema { Type = JsonSchemaType.String, Enum = [DocumentName] } }],
            Operations = new Dictionary<HttpMethod, OpenApiOperation>
            {
                [HttpMethod.Get] = new()
                {
                    OperationId = "openapi",
                    Summary = "This OpenAPI 3.1 description.",
                    Description = "Who: anyone (no token).",
                    Tags = new HashSet<OpenApiTagReference> { new("openapi", document) },
                    Security = [],
                    Responses = new OpenApiResponses
                    {
                        ["200"] = new OpenApiResponse
                        {
                            Description = "The description.",
                            Content = new Dictionary<string, OpenApiMediaType> { ["application/json"] = new() { Schema = new OpenApiSchema { Type = JsonSchemaType.Object } } },
                        },
                    },
                },
            },
        };
    }

    private static string Append(string? text, string line) => string.IsNullOrEmpty(text) ? line : text + "\n\n" + line;
}
