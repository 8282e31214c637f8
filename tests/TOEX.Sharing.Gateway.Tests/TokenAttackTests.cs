using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using TOEX.Sharing.ServiceDefaults;
using TOEX.Sharing.Testing;

namespace TOEX.Sharing.Gateway.Tests;

/// <summary>Two OIDC issuers trusted by a gateway, and an attacker's issuer that is not.</summary>
public sealed class TrustedIssuersFixture : IAsyncLifetime
{
    public const string Audience = "toex-sharing-test";

    public TestIssuer Trusted { get; private set; } = null!;
    public TestIssuer Other { get; private set; } = null!;
    public TestIssuer Attacker { get; private set; } = null!;
    public TestIssuer JwtTyped { get; private set; } = null!;
    public GatewayFactory Gateway { get; } = new();

    public async Task InitializeAsync()
    {
        Trusted = await TestIssuer.StartAsync();
        Other = await TestIssuer.StartAsync();
        Attacker = await TestIssuer.StartAsync();
        // test-idp is trusted for every role, Deliveries.Operate included: it speaks for partners, not for the operators.
        Trust(0, "test-idp", Trusted, "safe-haven", "bcc-childrens");
        GrantRoles(0, [.. Roles.All]);
        Trust(1, "other-idp", Other, "wmp");
        // Typed plain JWT, as Entra ID types access tokens and ID tokens alike.
        Trust(3, "jwt-typed-idp", JwtTyped = await TestIssuer.StartAsync(), "staffs");
        Gateway.Settings["Authentication:Issuers:3:TokenTypes:0"] = "JWT";
        Gateway.Settings["Authentication:Issuers:2:Name"] = "entra-wmp";
        Gateway.Settings["Authentication:Issuers:2:Kind"] = "Entra";
        Gateway.Settings["Authentication:Issuers:2:TenantId"] = "3f2b1c4d-5e6f-4a1b-9c8d-7e6f5a4b3c2d";
        Gateway.Settings["Authentication:Issuers:2:ClientId"] = "7d1e2f3a-4b5c-4d6e-8f7a-9b0c1d2e3f4a";
        Gateway.Settings["Authentication:Issuers:2:Organisations:0"] = "wmp";
        Gateway.Settings["Authentication:Issuers:2:Clients:0c9d8e7f-6a5b-4c3d-2e1f-0a9b8c7d6e5f"] = "wmp";
        GrantRoles(2, [Roles.FeedRead, Roles.PackagesSubmit]);
        // mapped-idp names roles in its own claim: whatever a token says in 'roles' is not taken.
        Trust(4, "mapped-idp", Mapped = await TestIssuer.StartAsync(), "nca");
        Gateway.Settings["Authentication:Issuers:4:RolesClaim"] = "app_roles";
        // ops-idp speaks for the broker's operators (Operations:Organisations, set by the factory).
        Trust(5, "ops-idp", Operations = await TestIssuer.StartAsync(), GatewayFactory.Operator);
        GrantRoles(5, [Roles.DeliveriesOperate]);
    }

    public TestIssuer Mapped { get; private set; } = null!;
    public TestIssuer Operations { get; private set; } = null!;

    private void GrantRoles(int index, string[] roles)
    {
        for (var i = 0; i < 8; i++)
        {
            Gateway.Settings.Remove($"Authentication:Issuers:{index}:Roles:{i}");
        }
        for (var i = 0; i < roles.Length; i++)
        {
            Gateway.Settings[$"Authentication:Issuers:{index}:Roles:{i}"] = roles[i];
        }
    }

    private void Trust(int index, string name, TestIssuer issuer, params string[] organisations)
    {
        var at = $"Authentication:Issuers:{index}:";
        Gateway.Settings[at + "Name"] = name;
        Gateway.Settings[at + "Authority"] = issuer.Authority;
        Gateway.Settings[at + "Audience"] = Audience;
        Gateway.Settings[at + "RequireHttpsMetadata"] = "false";
        for (var i = 0; i < organisations.Length; i++)
        {
            Gateway.Settings[at + $"Organisations:{i}"] = organisations[i];
        }
        // What a partner's own identity provider is trusted to grant.
        GrantRoles(index, [Roles.FeedRead, Roles.PackagesSubmit, Roles.AuditRead]);
    }

    public async Task DisposeAsync()
    {
        Gateway.Dispose();
        await Trusted.DisposeAsync();
        await Other.DisposeAsync();
        await Attacker.DisposeAsync();
        await JwtTyped.DisposeAsync();
        await Mapped.DisposeAsync();
        await Operations.DisposeAsync();
    }
}

/// <summary>
/// Issue 5's attack list against the real gateway: each forged or misused token gets 401, and the
/// well-formed tokens next to them are accepted (so each refusal is the check under test, not a broken setup).
/// </summary>
public sealed class TokenAttackTests(TrustedIssuersFixture fixture) : IClassFixture<TrustedIssuersFixture>
{
    private const string Route = "/api/v1/feed?limit=1";
    private static readonly string[] FeedReader = ["Feed.Read"];

    private TestIssuer Trusted => fixture.Trusted;

    private async Task<HttpStatusCode> Call(string token)
    {
        using var client = fixture.Gateway.CreateClient();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        var response = await client.GetAsync(Route);
        if (response.StatusCode == HttpStatusCode.Unauthorized)
        {
            // A problem+json with no validation detail: nothing tells the caller which check failed.
            var body = await response.Content.ReadAsStringAsync();
            Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
            Assert.DoesNotContain("IDX", body, StringComparison.Ordinal);
            Assert.DoesNotContain("error_description", response.Headers.WwwAuthenticate.ToString(), StringComparison.Ordinal);
        }
        return response.StatusCode;
    }

    private string Valid(Action<JsonObject>? header = null, Action<JsonObject>? payload = null, string algorithm = "RS256") =>
        Trusted.Token(TrustedIssuersFixture.Audience, "safe-haven", FeedReader, header: header, payload: payload, algorithm: algorithm);

    [Theory]
    [InlineData("RS256")]
    [InlineData("PS256")]
    [InlineData("ES256")]
    public async Task A_well_formed_token_of_a_trusted_issuer_is_accepted(string algorithm) =>
        Assert.Equal(HttpStatusCode.OK, await Call(Valid(algorithm: algorithm)));

    [Fact]
    public async Task An_issuer_trusted_for_several_organisations_speaks_for_each() =>
        Assert.Equal(HttpStatusCode.OK, await Call(Trusted.Token(TrustedIssuersFixture.Audience, "bcc-childrens", FeedReader)));

    [Fact]
    public async Task Expiry_within_the_60_second_skew_is_accepted() =>
        Assert.Equal(HttpStatusCode.OK, await Call(Valid(payload: p =>
        {
            p["iat"] = Now() - 600;
            p["nbf"] = Now() - 600;
            p["exp"] = Now() - 30;
        })));

    [Fact]
    public async Task Alg_none_is_refused() =>
        Assert.Equal(HttpStatusCode.Unauthorized, await Call(Valid(header: h => h["alg"] = "none")));

    [Fact]
    public async Task Hmac_keyed_with_the_issuers_public_key_is_refused()
    {
        foreach (var secret in new[] { Trusted.RsaPublicPem(), Trusted.RsaPublicJwk().ToJsonString(), Trusted.Jwks() })
        {
            var header = new JsonObject { ["alg"] = "HS256", ["typ"] = "at+jwt", ["kid"] = TestIssuer.RsaKeyId };
            var token = TestIssuer.SignWith(header, Claims(), data => HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), data));
            Assert.Equal(HttpStatusCode.Unauthorized, await Call(token));
        }
    }

    [Fact]
    public async Task A_token_signed_by_another_key_under_the_trusted_issuers_name_and_kid_is_refused() =>
        Assert.Equal(HttpStatusCode.Unauthorized, await Call(fixture.Attacker.Sign(Header(), Claims())));

    [Fact]
    public async Task Jku_x5u_and_embedded_jwk_are_never_followed()
    {
        var attacker = fixture.Attacker;
        var before = attacker.JwksFetches;
        Assert.Equal(HttpStatusCode.Unauthorized, await Call(attacker.Sign(Header(h => h["jku"] = attacker.JwksUrl), Claims())));
        Assert.Equal(HttpStatusCode.Unauthorized, await Call(attacker.Sign(Header(h => h["x5u"] = attacker.JwksUrl), Claims())));
        Assert.Equal(HttpStatusCode.Unauthorized, await Call(attacker.Sign(Header(h => h["jwk"] = attacker.RsaPublicJwk()), Claims())));
        Assert.Equal(before, attacker.JwksFetches);
    }

    [Fact]
    public async Task An_unknown_kid_is_refused_even_when_a_trusted_key_signed_it() =>
        Assert.Equal(HttpStatusCode.Unauthorized, await Call(Valid(header: h => h["kid"] = "not-a-published-kid")));

    [Fact]
    public async Task Another_issuer_or_no_issuer_is_refused()
    {
        Assert.Equal(HttpStatusCode.Unauthorized, await Call(Valid(payload: p => p["iss"] = "https://evil.example")));
        Assert.Equal(HttpStatusCode.Unauthorized, await Call(Valid(payload: p => p.Remove("iss"))));
        Assert.Equal(HttpStatusCode.Unauthorized, await Call(fixture.Attacker.Token(TrustedIssuersFixture.Audience, "safe-haven", FeedReader)));
    }

    [Fact]
    public async Task A_key_of_one_trusted_issuer_does_not_sign_for_another() =>
        Assert.Equal(HttpStatusCode.Unauthorized, await Call(fixture.Other.Sign(Header(), Claims())));

    [Fact]
    public async Task Another_audience_or_none_is_refused()
    {
        Assert.Equal(HttpStatusCode.Unauthorized, await Call(Valid(payload: p => p["aud"] = "some-other-api")));
        Assert.Equal(HttpStatusCode.Unauthorized, await Call(Valid(payload: p => p.Remove("aud"))));
    }

    [Fact]
    public async Task Lifetime_is_enforced_with_at_most_60_seconds_of_skew()
    {
        Assert.Equal(HttpStatusCode.Unauthorized, await Call(Valid(payload: p =>
        {
            p["iat"] = Now() - 600;
            p["nbf"] = Now() - 600;
            p["exp"] = Now() - 90;
        })));
        Assert.Equal(HttpStatusCode.Unauthorized, await Call(Valid(payload: p => p["nbf"] = Now() + 90)));
        Assert.Equal(HttpStatusCode.Unauthorized, await Call(Valid(payload: p => p.Remove("exp"))));
    }

    [Fact]
    public async Task An_id_token_is_not_an_access_token()
    {
        // An ID token is typed JWT and is for the client, not the API; either alone is refused.
        Assert.Equal(HttpStatusCode.Unauthorized, await Call(Valid(header: h => h["typ"] = "JWT")));
        Assert.Equal(HttpStatusCode.Unauthorized, await Call(Valid(header: h => h.Remove("typ"))));
        Assert.Equal(HttpStatusCode.Unauthorized, await Call(Valid(header: h => h["typ"] = "JWT", payload: p =>
        {
            p["aud"] = "client-safe-haven";
            p["nonce"] = "n-0S6_WzA2Mj";
        })));
    }

    [Fact]
    public async Task Where_tokens_are_typed_JWT_an_ID_token_is_told_from_an_access_token_by_its_claims()
    {
        var issuer = fixture.JwtTyped;
        string Token(Action<JsonObject> payload) =>
            issuer.Token(TrustedIssuersFixture.Audience, "staffs", FeedReader, header: h => h["typ"] = "JWT", payload: payload);

        Assert.Equal(HttpStatusCode.OK, await Call(Token(_ => { })));
        // An ID token names no client it was issued to, or carries the sign-in's nonce or at_hash.
        Assert.Equal(HttpStatusCode.Unauthorized, await Call(Token(p => p.Remove("client_id"))));
        Assert.Equal(HttpStatusCode.Unauthorized, await Call(Token(p => p["nonce"] = "n-0S6_WzA2Mj")));
        Assert.Equal(HttpStatusCode.Unauthorized, await Call(Token(p => p["at_hash"] = "77QmUPtjPfzWtF2AnpK9RQ")));
    }

    [Fact]
    public async Task An_issuer_cannot_assert_an_organisation_it_is_not_trusted_for()
    {
        Assert.Equal(HttpStatusCode.Unauthorized, await Call(Valid(payload: p => p["org"] = "wmp")));
        Assert.Equal(HttpStatusCode.Unauthorized, await Call(Valid(payload: p => p["org"] = new JsonArray("safe-haven", "wmp"))));
        // Trusted for two organisations, a token naming none is ambiguous.
        Assert.Equal(HttpStatusCode.Unauthorized, await Call(Valid(payload: p => p.Remove("org"))));
        Assert.Equal(HttpStatusCode.Unauthorized, await Call(fixture.Other.Token(TrustedIssuersFixture.Audience, "safe-haven", FeedReader)));
        Assert.Equal(HttpStatusCode.OK, await Call(fixture.Other.Token(TrustedIssuersFixture.Audience, "wmp", FeedReader)));
    }

    [Fact]
    public async Task Garbage_and_missing_tokens_are_refused()
    {
        Assert.Equal(HttpStatusCode.Unauthorized, await Call("not.a.token"));
        Assert.Equal(HttpStatusCode.Unauthorized, await Call(Valid()[..^4]));
        Assert.Equal(HttpStatusCode.Unauthorized, await Call(new string('a', 20_000)));
        using var client = fixture.Gateway.CreateClient();
        Assert.Equal(HttpStatusCode.Unauthorized, (await client.GetAsync(Route)).StatusCode);
    }

    [Fact]
    public async Task A_valid_token_without_the_role_is_forbidden() =>
        Assert.Equal(HttpStatusCode.Forbidden, await Call(Trusted.Token(TrustedIssuersFixture.Audience, "safe-haven", ["Packages.Submit"])));

    [Fact]
    public void Entra_is_wired_through_Microsoft_Identity_Web_with_the_same_checks()
    {
        _ = fixture.Gateway.Server;
        var options = fixture.Gateway.Services.GetRequiredService<IOptionsMonitor<JwtBearerOptions>>().Get("issuer-entra-wmp");
        var parameters = options.TokenValidationParameters;
        Assert.Equal("https://login.microsoftonline.com/3f2b1c4d-5e6f-4a1b-9c8d-7e6f5a4b3c2d/v2.0", options.Authority);
        Assert.Equal(["api://7d1e2f3a-4b5c-4d6e-8f7a-9b0c1d2e3f4a", "7d1e2f3a-4b5c-4d6e-8f7a-9b0c1d2e3f4a"], parameters.ValidAudiences);
        Assert.Equal(["https://login.microsoftonline.com/3f2b1c4d-5e6f-4a1b-9c8d-7e6f5a4b3c2d/v2.0", "https://sts.windows.net/3f2b1c4d-5e6f-4a1b-9c8d-7e6f5a4b3c2d/"], parameters.ValidIssuers);
        Assert.Equal(["RS256", "PS256", "ES256"], parameters.ValidAlgorithms);
        Assert.Equal(["JWT"], parameters.ValidTypes);
        Assert.False(parameters.TryAllIssuerSigningKeys);
        Assert.True(parameters.RequireExpirationTime);
        Assert.Equal(TimeSpan.FromSeconds(60), parameters.ClockSkew);
        Assert.True(options.RequireHttpsMetadata);
    }

    private async Task<HttpStatusCode> Get(string token, string route)
    {
        using var client = fixture.Gateway.CreateClient();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return (await client.GetAsync(route)).StatusCode;
    }

    [Fact]
    public async Task A_role_the_issuer_may_not_grant_is_dropped()
    {
        // other-idp may grant Feed.Read, Packages.Submit and Audit.Read to wmp: not Disclosures.Approve nor Policies.Read.
        var token = fixture.Other.Token(TrustedIssuersFixture.Audience, "wmp", [.. Roles.All]);

        Assert.Equal(HttpStatusCode.OK, await Get(token, Route));
        Assert.Equal(HttpStatusCode.Forbidden, await Get(token, "/api/v1/deliveries"));
    }

    [Fact]
    public async Task An_operator_role_is_honoured_only_for_an_operator_organisation()
    {
        // A partner whose identity provider grants it every role, Deliveries.Operate included, and is trusted to.
        var partner = Trusted.Token(TrustedIssuersFixture.Audience, "safe-haven", [.. Roles.All]);
        var operatorToken = fixture.Operations.Token(TrustedIssuersFixture.Audience, GatewayFactory.Operator, [Roles.DeliveriesOperate]);

        Assert.Equal(HttpStatusCode.Forbidden, await Get(partner, "/api/v1/deliveries"));
        Assert.Equal(HttpStatusCode.OK, await Get(operatorToken, "/api/v1/deliveries"));
    }

    [Fact]
    public async Task Where_an_issuer_maps_roles_from_its_own_claim_the_tokens_roles_claim_is_ignored()
    {
        var onlyRoles = fixture.Mapped.Token(TrustedIssuersFixture.Audience, "nca", [Roles.FeedRead]);
        var mapped = fixture.Mapped.Token(TrustedIssuersFixture.Audience, "nca", [], payload: p => p["app_roles"] = new JsonArray("Feed.Read"));

        Assert.Equal(HttpStatusCode.Forbidden, await Get(onlyRoles, Route));
        Assert.Equal(HttpStatusCode.OK, await Get(mapped, Route));
    }

    [Fact]
    public void Start_up_refuses_issuers_that_would_weaken_the_checks()
    {
        var problems = TrustedIssuers.Check(
        [
            new TrustedIssuerOptions { Name = "a", Authority = "http://idp.example", Audience = "x", Organisations = ["wmp"] },
            new TrustedIssuerOptions { Name = "b", Authority = "https://idp.example", Audience = "x", Organisations = ["wmp"], Algorithms = ["HS256"] },
            new TrustedIssuerOptions { Name = "c", Authority = "https://idp2.example", Audience = "x", Organisations = [], ClockSkew = TimeSpan.FromMinutes(5) },
            new TrustedIssuerOptions { Name = "d", Kind = IssuerKind.Entra, TenantId = "common", ClientId = "x", Organisations = ["wmp"] },
            new TrustedIssuerOptions { Name = "e", Authority = "https://idp3.example", Audience = "x", Organisations = ["wmp"], Clients = { ["app"] = "nca" } },
            new TrustedIssuerOptions { Name = "f", Authority = "http://127.0.0.1:1", Audience = "x", Organisations = ["wmp"], RequireHttpsMetadata = false },
            new TrustedIssuerOptions { Name = "g", Authority = "https://idp4.example", Audience = "x", Organisations = ["wmp"], Roles = ["Feed.Read", "Everything"] },
        ], production: true);
        Assert.Contains(problems, p => p.StartsWith("Authentication:Issuers:0:Roles must list the roles", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.StartsWith("Authentication:Issuers:6:Roles: 'Everything' is not a role", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.StartsWith("Authentication:Issuers:0:Authority", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.StartsWith("Authentication:Issuers:1:Algorithms: 'HS256'", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.StartsWith("Authentication:Issuers:2:Organisations", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.StartsWith("Authentication:Issuers:2:ClockSkew", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.StartsWith("Authentication:Issuers:3:TenantId", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.StartsWith("Authentication:Issuers:4:Clients:app", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.StartsWith("Authentication:Issuers:5:RequireHttpsMetadata cannot be false in Production", StringComparison.Ordinal));
    }

    private static long Now() => TimeProvider.System.GetUtcNow().ToUnixTimeSeconds();

    private static JsonObject Header(Action<JsonObject>? change = null)
    {
        var header = new JsonObject { ["alg"] = "RS256", ["typ"] = "at+jwt", ["kid"] = TestIssuer.RsaKeyId };
        change?.Invoke(header);
        return header;
    }

    private JsonObject Claims()
    {
        var now = Now();
        return new JsonObject
        {
            ["iss"] = Trusted.Authority,
            ["aud"] = TrustedIssuersFixture.Audience,
            ["sub"] = "client-safe-haven",
            ["org"] = "safe-haven",
            ["roles"] = new JsonArray("Feed.Read"),
            ["iat"] = now,
            ["nbf"] = now,
            ["exp"] = now + 600,
        };
    }
}
