using System.Collections.Concurrent;
using Google.Protobuf;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace TOEX.Sharing.Testing;

/// <summary>One span as a service exported it.</summary>
public sealed record ReceivedSpan(
    string Service, string Scope, string TraceId, string SpanId, string? ParentSpanId, string Name, int Kind,
    IReadOnlyDictionary<string, string> Attributes)
{
    public override string ToString() => $"{Service}: {Name} ({Scope}) span {SpanId} parent {ParentSpanId ?? "-"}";
}

/// <summary>
/// An OTLP/HTTP receiver on loopback, for tests: the services export to it exactly as they would to a collector
/// (<c>OTEL_EXPORTER_OTLP_ENDPOINT</c>, <c>OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf</c>), and it keeps every span it is
/// sent. Metrics and logs are accepted and dropped. The protobuf is read with Google.Protobuf's wire reader by field
/// number (opentelemetry-proto <c>collector/trace/v1</c>, <c>trace/v1</c>, <c>common/v1</c>, <c>resource/v1</c>), so no
/// generated code is needed; fields not listed there are skipped.
/// </summary>
public sealed class OtlpReceiver : IAsyncDisposable
{
    private readonly WebApplication app;
    private readonly ConcurrentQueue<ReceivedSpan> spans = new();
    private TaskCompletionSource exported = NewSignal();

    private OtlpReceiver(WebApplication app, Uri endpoint)
    {
        this.app = app;
        Endpoint = endpoint;
    }

    /// <summary>The value for <c>OTEL_EXPORTER_OTLP_ENDPOINT</c>.</summary>
    public Uri Endpoint { get; }

    /// <summary>Every span received so far.</summary>
    public IReadOnlyList<ReceivedSpan> Spans => [.. spans];

    /// <summary>Completes when the next export of spans has been received (and its spans are in <see cref="Spans"/>).</summary>
    public Task NextExportAsync() => Volatile.Read(ref exported).Task;

    private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>What a service needs in its environment to export here, often (every 200 ms) so tests need not wait long.</summary>
    public IReadOnlyDictionary<string, string?> ExporterEnvironment => new Dictionary<string, string?>
    {
        ["OTEL_EXPORTER_OTLP_ENDPOINT"] = Endpoint.ToString().TrimEnd('/'),
        ["OTEL_EXPORTER_OTLP_PROTOCOL"] = "http/protobuf",
        ["OTEL_BSP_SCHEDULE_DELAY"] = "200",
        ["OTEL_BLRP_SCHEDULE_DELAY"] = "200",
        ["OTEL_METRIC_EXPORT_INTERVAL"] = "1000",
    };

    public static async Task<OtlpReceiver> StartAsync()
    {
        var endpoint = new Uri($"http://127.0.0.1:{FreePort.Next()}");
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls(endpoint.ToString());
        builder.Logging.ClearProviders();
        var app = builder.Build();
        var receiver = new OtlpReceiver(app, endpoint);
        app.MapPost("/v1/traces", async (HttpRequest request) =>
        {
            using var body = new MemoryStream();
            await request.Body.CopyToAsync(body);
            foreach (var span in ReadTraces(body.ToArray()))
            {
                receiver.spans.Enqueue(span);
            }
            Interlocked.Exchange(ref receiver.exported, NewSignal()).TrySetResult();
            return Results.Bytes([], "application/x-protobuf");
        });
        app.MapPost("/v1/metrics", () => Results.Bytes([], "application/x-protobuf"));
        app.MapPost("/v1/logs", () => Results.Bytes([], "application/x-protobuf"));
        await app.StartAsync();
        return receiver;
    }

    /// <summary>Reads an <c>ExportTraceServiceRequest</c>.</summary>
    public static IEnumerable<ReceivedSpan> ReadTraces(byte[] request)
    {
        var result = new List<ReceivedSpan>();
        foreach (var resourceSpans in Fields(request, 1))
        {
            var service = "";
            var scopes = new List<byte[]>();
            foreach (var (field, value) in All(resourceSpans))
            {
                if (field == 1)
                {
                    service = Attributes(Fields(value, 1)).GetValueOrDefault("service.name", "");
                }
                else if (field == 2)
                {
                    scopes.Add(value);
                }
            }
            foreach (var scopeSpans in scopes)
            {
                var scope = Fields(scopeSpans, 1).Select(s => Strings(s, 1).FirstOrDefault() ?? "").FirstOrDefault() ?? "";
                result.AddRange(Fields(scopeSpans, 2).Select(span => ReadSpan(service, scope, span)));
            }
        }
        return result;
    }

    private static ReceivedSpan ReadSpan(string service, string scope, byte[] span)
    {
        string traceId = "", spanId = "", name = "";
        string? parent = null;
        var kind = 0;
        var attributes = new List<byte[]>();
        var input = new CodedInputStream(span);
        uint tag;
        while ((tag = input.ReadTag()) != 0)
        {
            switch (WireFormat.GetTagFieldNumber(tag))
            {
                case 1: traceId = Convert.ToHexStringLower(input.ReadBytes().ToByteArray()); break;
                case 2: spanId = Convert.ToHexStringLower(input.ReadBytes().ToByteArray()); break;
                case 4:
                    var bytes = input.ReadBytes();
                    parent = bytes.Length == 0 ? null : Convert.ToHexStringLower(bytes.ToByteArray());
                    break;
                case 5: name = input.ReadString(); break;
                case 6: kind = input.ReadEnum(); break;
                case 9: attributes.Add(input.ReadBytes().ToByteArray()); break;
                default: input.SkipLastField(); break;
            }
        }
        return new ReceivedSpan(service, scope, traceId, spanId, parent, name, kind, Attributes(attributes));
    }

    /// <summary><c>KeyValue</c>s with string, bool, int or double values, as text.</summary>
    private static Dictionary<string, string> Attributes(IEnumerable<byte[]> keyValues)
    {
        var attributes = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var keyValue in keyValues)
        {
            var key = Strings(keyValue, 1).FirstOrDefault();
            var value = Fields(keyValue, 2).FirstOrDefault();
            if (key is null || value is null)
            {
                continue;
            }
            var input = new CodedInputStream(value);
            var tag = input.ReadTag();
            attributes[key] = WireFormat.GetTagFieldNumber(tag) switch
            {
                1 => input.ReadString(),
                2 => input.ReadBool() ? "true" : "false",
                3 => input.ReadInt64().ToString(System.Globalization.CultureInfo.InvariantCulture),
                4 => input.ReadDouble().ToString(System.Globalization.CultureInfo.InvariantCulture),
                _ => "",
            };
        }
        return attributes;
    }

    private static IEnumerable<string> Strings(byte[] message, int field) =>
        Fields(message, field).Select(b => System.Text.Encoding.UTF8.GetString(b));

    private static IEnumerable<byte[]> Fields(byte[] message, int field) =>
        All(message).Where(f => f.Field == field).Select(f => f.Value);

    /// <summary>The length-delimited fields of a message (everything else skipped).</summary>
    private static List<(int Field, byte[] Value)> All(byte[] message)
    {
        var fields = new List<(int, byte[])>();
        var input = new CodedInputStream(message);
        uint tag;
        while ((tag = input.ReadTag()) != 0)
        {
            if (WireFormat.GetTagWireType(tag) == WireFormat.WireType.LengthDelimited)
            {
                fields.Add((WireFormat.GetTagFieldNumber(tag), input.ReadBytes().ToByteArray()));
            }
            else
            {
                input.SkipLastField();
            }
        }
        return fields;
    }

    public async ValueTask DisposeAsync()
    {
        await app.StopAsync();
        await app.DisposeAsync();
    }
}
