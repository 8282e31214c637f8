using System.Text;
using System.Text.Json;
using BenchmarkDotNet.Attributes;
using Microsoft.EntityFrameworkCore;
using TOEX.Sharing.Audit.Data;
using TOEX.Sharing.Audit.Ledger;
using TOEX.Sharing.Contracts;
using TOEX.Sharing.Gateway.Validation;
using TOEX.Sharing.Policy;
using TOEX.Sharing.Sealing;

namespace TOEX.Sharing.Benchmarks.Micro;

/// <summary>One policy decision for a package of three recipients (the reference region, all rules evaluated).</summary>
[MemoryDiagnoser]
public class PolicyDecisionBenchmarks
{
    private PolicyEngine engine = null!;
    private PackageFacts police = null!;
    private PackageFacts safeguarding = null!;

    [GlobalSetup]
    public void Setup()
    {
        engine = new PolicyEngine(Samples.Policies());
        police = Samples.Parse(Samples.Package("rocuwm-2026-000124.json", 4096)).ToFacts();
        safeguarding = Samples.Parse(Samples.Package("rocuwm-2026-000123.json", 4096)).ToFacts();
    }

    [Benchmark(Description = "decide: 3 police recipients (permit, permit, permit)")]
    public DecisionDocument DecidePolice() => engine.Decide(police, Samples.At);

    [Benchmark(Description = "decide: safeguarding, 2 recipients (permit, deny)")]
    public DecisionDocument DecideSafeguarding() => engine.Decide(safeguarding, Samples.At);
}

/// <summary>One seal: the broker's ES256 JWS over the copy, inside a JWE for the recipient (EC: ECDH-ES+A256KW; RSA: RSA-OAEP-256).</summary>
[MemoryDiagnoser]
public class SealBenchmarks : IDisposable
{
    private readonly string directory = Directory.CreateTempSubdirectory("toex-micro-seal-").FullName;
    private PackageSealer sealer = null!;
    private RecipientKey ec = null!;
    private RecipientKey rsa = null!;
    private byte[] payload = null!;

    [Params(4096, 16384)]
    public int Size { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        sealer = new PackageSealer(LocalKeyRing.OpenOrCreate(Path.Combine(directory, "broker"), TimeProvider.System));
        ec = RecipientKey.FromJwks(File.ReadAllText(KeyFiles.Generate(directory, KeyKind.EC, KeyUse.Encryption, "ec").PublicJwksPath));
        rsa = RecipientKey.FromJwks(File.ReadAllText(KeyFiles.Generate(directory, KeyKind.Rsa, KeyUse.Encryption, "rsa").PublicJwksPath));
        payload = Encoding.UTF8.GetBytes(Samples.Package("rocuwm-2026-000124.json", Size));
    }

    [Benchmark(Description = "seal for an EC P-256 partner")]
    public string SealEc() => sealer.Seal(payload, ec);

    [Benchmark(Description = "seal for an RSA-3072 partner")]
    public string SealRsa() => sealer.Seal(payload, rsa);

    public void Dispose()
    {
        Directory.Delete(directory, recursive: true);
        GC.SuppressFinalize(this);
    }
}

/// <summary>Validating a submitted package (every field checked) and reading it, and writing its canonical form.</summary>
[MemoryDiagnoser]
public class PackageBenchmarks
{
    /// <summary>The sample's date (its subjects are born before it).</summary>
    private static readonly DateOnly Today = new(2026, 11, 25);

    private byte[] json = null!;
    private IntelligencePackage package = null!;

    [Params(2048, 16384)]
    public int Size { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        json = Encoding.UTF8.GetBytes(Samples.Package("rocuwm-2026-000124.json", Size));
        package = Samples.Parse(Encoding.UTF8.GetString(json));
    }

    [Benchmark(Description = "validate and bind a submitted package")]
    public IntelligencePackage ValidateAndBind()
    {
        using var document = JsonDocument.Parse(json);
        var errors = PackageValidator.Validate(document.RootElement, Today);
        if (errors.Count > 0)
        {
            throw new InvalidOperationException("The sample is invalid.");
        }
        return document.RootElement.Deserialize<IntelligencePackage>(ToexJson.Options)!;
    }

    [Benchmark(Description = "serialise the canonical package")]
    public string Serialise() => ToexJson.Serialize(package);
}

/// <summary>
/// One ledger append: the entry's canonical form, its RFC 9162 leaf hash and chain hash, the store transaction (SQLite,
/// WAL, on disk) and the Merkle tree; and the hashing alone.
/// </summary>
[MemoryDiagnoser]
public class LedgerBenchmarks : IDisposable
{
    private readonly string directory = Directory.CreateTempSubdirectory("toex-micro-ledger-").FullName;
    private DbContextOptions<AuditDb> options = null!;
    private LedgerWriter writer = null!;
    private LedgerTree tree = null!;
    private LedgerRecord draft = null!;
    private long next;

    [GlobalSetup]
    public void Setup()
    {
        options = new DbContextOptionsBuilder<AuditDb>().UseSqlite($"Data Source={Path.Combine(directory, "audit.db")}").Options;
        using (var db = new AuditDb(options))
        {
            db.Database.EnsureCreated();
            db.Database.ExecuteSqlRaw("PRAGMA journal_mode=WAL;");
        }
        writer = new LedgerWriter(tree = new LedgerTree(Microsoft.Extensions.Logging.Abstractions.NullLogger<LedgerTree>.Instance));
        draft = new LedgerRecord
        {
            EventKey = "",
            Type = "release",
            At = Samples.At,
            Actor = "gateway, authorised by policy-decision",
            Justification = "purpose law-enforcement; lawful basis DPA2018-Part3:s35(2)(b); agreement DSA-POLICE-001",
            Recipients = ["wmp"],
            PackageId = Guid.NewGuid(),
            Originator = "rocu-wm",
            Partner = "wmp",
            Agreement = "DSA-POLICE-001",
            Outcome = "permit",
            Detail = new Dictionary<string, object?> { ["reference"] = "ROCUWM-2026-000124", ["kind"] = "package", ["feedCursor"] = 42 },
        };
    }

    [Benchmark(Description = "append one entry (hashing, SQLite transaction, Merkle tree)")]
    public async Task<int> Append()
    {
        await using var db = new AuditDb(options);
        return await writer.AppendAsync(db, [draft with { EventKey = (++next).ToString(System.Globalization.CultureInfo.InvariantCulture) }], CancellationToken.None);
    }

    [Benchmark(Description = "hash one entry (canonical JSON, leaf hash, chain hash)")]
    public byte[] Hash()
    {
        var canonical = ToexJson.Serialize(draft with { Index = next });
        var leaf = LedgerWriter.LeafHash(Encoding.UTF8.GetBytes(canonical));
        return System.Security.Cryptography.SHA256.HashData([.. leaf, .. leaf]);
    }

    public void Dispose()
    {
        writer.Dispose();
        tree.Dispose();
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        Directory.Delete(directory, recursive: true);
        GC.SuppressFinalize(this);
    }
}
