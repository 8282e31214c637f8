using System.Text.Json;
using TOEX.Sharing.Testing;

namespace TOEX.Sharing.Ledger.Tests;

/// <summary>The public transparency-dev/merkle vectors in ../shared/testdata/merkle, one case per file.</summary>
public sealed class MerkleVectorTests
{
    private static readonly string VectorRoot = Path.Combine(RepoPaths.Shared, "testdata", "merkle");

    public static TheoryData<string> InclusionVectors => [.. Vectors("inclusion")];

    public static TheoryData<string> ConsistencyVectors => [.. Vectors("consistency")];

    [Fact]
    public void Every_published_vector_is_found()
    {
        Assert.Equal(98, Vectors("inclusion").Length);
        Assert.Equal(98, Vectors("consistency").Length);
    }

    [Theory]
    [MemberData(nameof(InclusionVectors))]
    public void Inclusion_vector_is_accepted_or_rejected_as_published(string vector)
    {
        using var json = Load(vector);
        var v = json.RootElement;
        // leafIdx is a uint64 in the vectors: 2^64 - 1 becomes -1 here, an index the verifier must refuse.
        var leafIndex = unchecked((long)v.GetProperty("leafIdx").GetUInt64());
        var treeSize = checked((long)v.GetProperty("treeSize").GetUInt64());

        var result = MerkleVerifier.VerifyInclusion(
            leafIndex, treeSize, Bytes(v, "leafHash"), Proof(v), Bytes(v, "root"));

        AssertOutcome(v, result);
    }

    [Theory]
    [MemberData(nameof(ConsistencyVectors))]
    public void Consistency_vector_is_accepted_or_rejected_as_published(string vector)
    {
        using var json = Load(vector);
        var v = json.RootElement;

        var result = MerkleVerifier.VerifyConsistency(
            checked((long)v.GetProperty("size1").GetUInt64()),
            checked((long)v.GetProperty("size2").GetUInt64()),
            Bytes(v, "root1"),
            Bytes(v, "root2"),
            Proof(v));

        AssertOutcome(v, result);
    }

    /// <summary>Paths relative to the vector folder, with forward slashes: the test cases' names.</summary>
    private static string[] Vectors(string kind) =>
    [
        .. Directory.EnumerateFiles(Path.Combine(VectorRoot, kind), "*.json", SearchOption.AllDirectories)
            .Select(f => Path.GetRelativePath(VectorRoot, f).Replace('\\', '/'))
            .Order(StringComparer.Ordinal),
    ];

    private static JsonDocument Load(string vector) =>
        JsonDocument.Parse(File.ReadAllBytes(Path.Combine(VectorRoot, vector)));

    private static byte[] Bytes(JsonElement vector, string name) =>
        vector.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetBytesFromBase64() : [];

    private static byte[][] Proof(JsonElement vector) =>
        vector.TryGetProperty("proof", out var proof) && proof.ValueKind == JsonValueKind.Array
            ? [.. proof.EnumerateArray().Select(p => p.GetBytesFromBase64())]
            : [];

    private static void AssertOutcome(JsonElement vector, VerificationResult result)
    {
        var wantErr = vector.GetProperty("wantErr").GetBoolean();
        var desc = vector.GetProperty("desc").GetString();
        Assert.True(result.IsValid != wantErr, $"{desc}: wantErr={wantErr}, verifier said {result}");
    }
}
