using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using TOEX.Sharing.Testing;

namespace TOEX.Sharing.Benchmarks.EndToEnd;

/// <summary>One kind of package of the mix: a sample of <c>deploy/samples</c> sent to recipients in a given order.</summary>
internal sealed record Template(string Name, string Sample, string[] Recipients, int Weight)
{
    /// <summary>The recipients a package of this template is sent to (the first <c>k</c>).</summary>
    public string[] For(int recipients) => Recipients[..recipients];
}

/// <summary>A package ready to send, and the recipients it must reach (the permits, known from a simulation).</summary>
internal sealed record BenchPackage(int Index, string Template, string Reference, byte[] Body, string[] Permitted, int Recipients);

/// <summary>
/// The packages of a run: realistic sizes (uniform between the bounds, the narrative filling the rest), each sent to
/// several recipients, a mix of permits, denies and refers of the reference region. What each recipient of each
/// template is decided is asked of the gateway's own simulation before the run, so the run knows which copies must
/// reach which feed; every template but the refer one permits its first recipient.
/// </summary>
internal sealed class Workload
{
    /// <summary>The mix (weights out of 100). At 2026-11-25 the reference region decides as the comments say.</summary>
    public static readonly Template[] Templates =
    [
        // Law enforcement to three police forces and the NCA: permit, permit, permit (then Border Force: deny, suspended).
        new("police", "rocuwm-2026-000124.json", ["wmp", "staffs", "nca", "border-force-mids"], 50),
        // The same to the NCA, a force, and two that are refused: permit, permit, deny (suspended), deny (unknown partner).
        new("police-with-denies", "rocuwm-2026-000124.json", ["nca", "wmp", "border-force-mids", "acme-logistics"], 25),
        // Safeguarding children: the council's children's services permitted (sanitised); the police and the NHS trust denied.
        new("safeguarding", "rocuwm-2026-000123.json", ["bcc-childrens", "wmp", "bsol-nhs-safeguarding", "acme-logistics"], 15),
        // Special-category data to the council: refer (IG approval), the others denied. Nothing is released.
        new("referral", "rocuwm-2026-000126.json", ["bcc-childrens", "wmp", "bsol-nhs-safeguarding", "acme-logistics"], 10),
    ];

    private const string Words =
        "intelligence indicates that the subject travels between addresses in the evening using hire vehicles registered "
        + "to associates and meets couriers near transport hubs where cash is exchanged for packages and telephones are swapped ";

    private readonly Dictionary<string, JsonObject> samples = [];
    private readonly Dictionary<string, string[]> permitted = [];
    private readonly Random random;
    private readonly int[] weights;
    private readonly string run = Guid.NewGuid().ToString("N")[..8].ToUpperInvariant();

    public Workload(BenchOptions options)
    {
        Options = options;
        random = new Random(options.Seed);
        weights = [.. Templates.SelectMany((t, i) => Enumerable.Repeat(i, t.Weight))];
        foreach (var template in Templates.DistinctBy(t => t.Sample))
        {
            samples[template.Sample] = JsonNode.Parse(File.ReadAllText(Path.Combine(RepoPaths.Root, "deploy", "samples", template.Sample)))!.AsObject();
        }
    }

    public BenchOptions Options { get; }

    /// <summary>Which recipients of each template are permitted, from the gateway's simulation (no side effects).</summary>
    public async Task LearnDecisionsAsync(HttpClient gateway, System.Net.Http.Headers.AuthenticationHeaderValue token)
    {
        foreach (var template in Templates)
        {
            var package = Build(template, "SIMULATION", 2048);
            using var request = new HttpRequestMessage(HttpMethod.Post, $"/api/v1/simulations?at={BenchStack.StartsAt}")
            {
                Content = new ByteArrayContent(package) { Headers = { ContentType = new("application/json") } },
            };
            request.Headers.Authorization = token;
            using var response = await gateway.SendAsync(request);
            var body = await response.Content.ReadAsStringAsync();
            if (!response.IsSuccessStatusCode)
            {
                throw new InvalidOperationException($"The simulation of template {template.Name} failed: {(int)response.StatusCode} {body}");
            }
            var decisions = JsonNode.Parse(body)!["decisions"]!.AsArray();
            permitted[template.Name] = [.. decisions.Where(d => (string?)d!["outcome"] == "permit").Select(d => (string)d!["recipient"]!)];
            Console.WriteLine($"  {template.Name,-20} {template.Weight,3}%  "
                + string.Join(", ", decisions.Select(d => $"{d!["recipient"]}={d["outcome"]}")));
        }
    }

    private int issued = -1;

    /// <summary>The next package of the run (numbered across its phases: every reference is new).</summary>
    public BenchPackage Next()
    {
        var index = Interlocked.Increment(ref issued);
        Template template;
        int size;
        lock (random)
        {
            template = Templates[weights[random.Next(weights.Length)]];
            size = random.Next(Options.MinSize, Options.MaxSize + 1);
        }
        var reference = $"BENCH-{run}-{index.ToString("D7", CultureInfo.InvariantCulture)}";
        return new BenchPackage(index, template.Name, reference, Build(template, reference, size),
            [.. template.For(Options.Recipients).Where(r => permitted[template.Name].Contains(r))], Options.Recipients);
    }

    /// <summary>Sizes drawn as the packages' are, for the raw baseline's messages.</summary>
    public static int[] Sizes(BenchOptions options, int count)
    {
        var random = new Random(options.Seed + 1);
        return [.. Enumerable.Range(0, count).Select(_ => random.Next(options.MinSize, options.MaxSize + 1))];
    }

    private byte[] Build(Template template, string reference, int size)
    {
        var package = samples[template.Sample].DeepClone().AsObject();
        package["reference"] = reference;
        package["recipients"] = new JsonArray([.. template.For(Options.Recipients).Select(r => (JsonNode)r)]);
        package["body"] = "";
        var bare = Encoding.UTF8.GetByteCount(package.ToJsonString());
        var body = new StringBuilder(Math.Max(0, size - bare));
        while (body.Length < size - bare)
        {
            body.Append(Words, 0, Math.Min(Words.Length, size - bare - body.Length));
        }
        package["body"] = body.ToString();
        return Encoding.UTF8.GetBytes(package.ToJsonString());
    }
}
