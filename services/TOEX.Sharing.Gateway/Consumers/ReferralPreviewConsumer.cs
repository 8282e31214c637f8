using System.ComponentModel.DataAnnotations;
using MassTransit;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using TOEX.Sharing.Contracts;
using TOEX.Sharing.Gateway.Core;
using TOEX.Sharing.Gateway.Data;
using TOEX.Sharing.Gateway.Release;
using TOEX.Sharing.Sealing;
using TOEX.Sharing.ServiceDefaults;

namespace TOEX.Sharing.Gateway.Consumers;

/// <summary>
/// Where the audit service's public preview key is (<c>Gateway:ReferralPreview:JwksPath</c>, default
/// <c>&lt;repo&gt;/.local/keys/audit-preview.jwks.json</c>): the only key a referral preview is ever sealed for.
/// </summary>
public sealed class ReferralPreviewOptions
{
    public const string Section = "Gateway:ReferralPreview";

    [MinLength(1, ErrorMessage = "Gateway:ReferralPreview:JwksPath must name a file when set.")]
    public string? JwksPath { get; set; }

    public string Path => JwksPath ?? System.IO.Path.Combine(LocalPaths.Root(), "keys", "audit-preview.jwks.json");
}

/// <summary>
/// Answers the audit service's request for the copy an approval of a pending referral would release: built exactly as a
/// release builds it (<see cref="RecipientCopy"/>, the referral's obligations), signed by the broker and sealed for the
/// audit service's configured preview key, never for a key the request names. Nothing is stored or released; a referral
/// that is decided, recalled, or not the one named is answered "unavailable" with the reason.
/// </summary>
public sealed class ReferralPreviewConsumer(
    GatewayDb db, PackageSealer sealer, PackageVault vault, IOptions<ReferralPreviewOptions> options, TimeProvider time, ILogger<ReferralPreviewConsumer> logger)
    : IConsumer<ReferralPreviewRequested>
{
    public async Task Consume(ConsumeContext<ReferralPreviewRequested> context)
    {
        var m = context.Message;
        var state = await db.Recipients.AsNoTracking().SingleOrDefaultAsync(r => r.ReferralId == m.ReferralId, context.CancellationToken);
        var submission = state is null ? null
            : await db.Submissions.AsNoTracking().SingleOrDefaultAsync(s => s.Id == state.PackageId, context.CancellationToken);
        string? unavailable = null;
        if (state is null || submission is null || submission.Id != m.PackageId || state.Partner != m.Recipient || submission.Originator != m.Originator)
        {
            unavailable = "The gateway holds no such referral.";
        }
        else if (submission.RecalledAt is not null)
        {
            unavailable = "The package was recalled: an approval would release nothing.";
        }
        else if (state.ReferralDecision is not null)
        {
            unavailable = $"The referral was already {state.ReferralDecision}.";
        }
        if (unavailable is not null)
        {
            await context.RespondAsync(new ReferralPreviewAnswered { ReferralId = m.ReferralId, Unavailable = unavailable });
            return;
        }

        RecipientKey key;
        try
        {
            key = RecipientKey.FromJwks(await File.ReadAllTextAsync(options.Value.Path, context.CancellationToken));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or SealException)
        {
            logger.LogError("The audit service's preview key at {Path} cannot be read: {Problem}", options.Value.Path, e.Message);
            await context.RespondAsync(new ReferralPreviewAnswered
            {
                ReferralId = m.ReferralId,
                Unavailable = "The gateway has no usable preview key for the audit service (Gateway:ReferralPreview:JwksPath).",
            });
            return;
        }
        var decision = RecipientLife.PermitOf(state!);
        var copy = RecipientCopy.Build(submission!.Id, vault.Open(submission.Id, submission.PackageJson), decision, submission.PolicyVersion ?? "", time.GetUtcNow());
        var sealedCopy = sealer.Seal(ToexJson.SerializeToUtf8Bytes(copy), key);
        logger.LogInformation("Referral {ReferralId} of package {PackageId}: preview of {Recipient}'s copy sealed for the audit service, asked by {Officer}",
            m.ReferralId, m.PackageId, m.Recipient, m.RequestedBy);
        await context.RespondAsync(new ReferralPreviewAnswered { ReferralId = m.ReferralId, Sealed = sealedCopy });
    }
}

/// <summary>
/// A request/response endpoint: no retries (the officer's page waits). A durable queue like every other
/// (<see cref="DurableQueues.SetDurableQueue"/>), so that it is on each node of a cluster (a classic queue lives on one
/// node, and while that node was down the gateway could not consume from it and reported itself not ready) and a request
/// past its delivery limit is dead-lettered, not dropped.
/// </summary>
public sealed class ReferralPreviewConsumerDefinition : ConsumerDefinition<ReferralPreviewConsumer>
{
    public const string Queue = "gateway-referral-preview";

    public ReferralPreviewConsumerDefinition() => EndpointName = Queue;

    protected override void ConfigureConsumer(IReceiveEndpointConfigurator endpointConfigurator,
        IConsumerConfigurator<ReferralPreviewConsumer> consumerConfigurator, IRegistrationContext context)
    {
        // Requests are sent to this endpoint's own exchange, never published: no exchange of the message type is bound.
        endpointConfigurator.ConfigureConsumeTopology = false;
        if (endpointConfigurator is IRabbitMqReceiveEndpointConfigurator rabbit)
        {
            rabbit.SetDurableQueue(context.GetRequiredService<ServiceName>(), 10);
        }
    }
}
