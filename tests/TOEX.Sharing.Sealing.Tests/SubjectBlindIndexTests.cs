using System.Security.Cryptography;
using TOEX.Sharing.Contracts;

namespace TOEX.Sharing.Sealing.Tests;

/// <summary>How subjects are written before indexing: the same person written two ways is the same person.</summary>
public sealed class SubjectNormaliserTests
{
    [Theory]
    [InlineData("Jane Example", "jane example")]
    [InlineData("  JANE   EXAMPLE ", "jane example")]
    [InlineData("Jane\tExample", "jane example")]
    [InlineData("Zoë Brontë", "zoe bronte")]
    [InlineData("José Álvarez-Núñez", "jose alvarez nunez")]
    [InlineData("Łukasz Wałęsa", "lukasz walesa")]
    [InlineData("Gräfin Strauß", "grafin strauss")]
    [InlineData("Siobhán O'Brien", "siobhan obrien")]
    [InlineData("Siobhán O’Brien", "siobhan obrien")]
    [InlineData("St. John Smith-Jones", "st john smith jones")]
    [InlineData("Ｊａｎｅ", "jane")]
    [InlineData("Zoe\u0308 Bronte\u0308", "zoe bronte")]
    [InlineData("Nguyễn Thị Minh Khai", "nguyen thi minh khai")]
    [InlineData("---", "")]
    public void Normalises_a_name(string name, string expected) => Assert.Equal(expected, SubjectNormaliser.Name(name));

    [Theory]
    [InlineData("10/123456X", "10/123456X")]
    [InlineData("10/0123456x", "10/123456X")]
    [InlineData("2010/0123456X", "10/123456X")]
    [InlineData(" 2010 / 123456 X ", "10/123456X")]
    [InlineData("99/7A", "99/7A")]
    public void Writes_a_pnc_id_one_way(string pnc, string expected) => Assert.Equal(expected, SubjectNormaliser.Pnc(pnc));

    [Theory]
    [InlineData("123456X")]
    [InlineData("10/123456")]
    [InlineData("10/12345678X")]
    [InlineData("201/123456X")]
    [InlineData("10-123456X")]
    [InlineData("")]
    public void Refuses_what_is_not_a_pnc_id(string pnc) => Assert.Null(SubjectNormaliser.Pnc(pnc));

    [Fact]
    public void Writes_a_date_of_birth_as_iso_8601() => Assert.Equal("2010-03-14", SubjectNormaliser.DateOfBirth(new DateOnly(2010, 3, 14)));
}

/// <summary>Keyed blind indexes of subjects: stable for one key, unlinkable without it, never the data itself.</summary>
public sealed class SubjectBlindIndexTests : IDisposable
{
    private readonly TempDirectory _directory = new();
    private readonly SubjectBlindIndex _index = new(RandomNumberGenerator.GetBytes(32));

    public void Dispose() => _directory.Dispose();

    private static Subject Jane(string name = "Jane Example", string pnc = "10/123456X") => new()
    {
        Role = "victim",
        Name = name,
        DateOfBirth = new DateOnly(2010, 3, 14),
        Identifiers = new Dictionary<string, string> { ["pnc"] = pnc },
    };

    [Fact]
    public void Indexes_name_with_date_of_birth_name_alone_and_each_identifier()
    {
        var indexes = _index.Of(Jane()).ToList();

        Assert.Equal(
            [_index.Name("Jane Example"), _index.NameAndDateOfBirth("Jane Example", new DateOnly(2010, 3, 14)), _index.Pnc("10/123456X")!],
            indexes);
        Assert.Equal(["n", "nd", "pnc"], indexes.Select(i => i.Split('.')[0]));
        Assert.All(indexes, i => Assert.Matches("^[a-z]+\\.[A-Za-z0-9_-]{43}$", i));
    }

    [Fact]
    public void Gives_the_same_indexes_to_the_same_person_written_differently()
    {
        Assert.Equal(_index.Of(Jane()), _index.Of(Jane(" JANE  example", "2010/0123456x")));
    }

    [Fact]
    public void Gives_different_indexes_to_another_person_date_of_birth_or_key()
    {
        var jane = _index.Of(Jane()).ToList();

        Assert.NotEqual(_index.NameAndDateOfBirth("Jane Example", new DateOnly(2010, 3, 14)), _index.NameAndDateOfBirth("Jane Example", new DateOnly(2010, 3, 15)));
        Assert.Empty(jane.Intersect(_index.Of(Jane("John Example", "10/123457X"))));
        Assert.Empty(jane.Intersect(new SubjectBlindIndex(RandomNumberGenerator.GetBytes(32)).Of(Jane())));
    }

    [Fact]
    public void Indexes_another_identifier_by_its_name_and_value()
    {
        var subject = Jane() with { Identifiers = new Dictionary<string, string> { ["niNumber"] = "QQ 12 34 56 C", ["pnc"] = "not a pnc" } };

        var identifiers = _index.Of(subject).Where(i => i.StartsWith("id.", StringComparison.Ordinal)).ToList();

        Assert.Equal(2, identifiers.Count);
        Assert.Contains(_index.Of(subject with { Identifiers = new Dictionary<string, string> { ["NINUMBER"] = "qq123456c" } }).Last(), identifiers);
    }

    [Fact]
    public void Creates_a_key_readable_only_by_its_owner_once_and_reads_it_back()
    {
        var path = _directory.Combine("keys/blind-index.key");

        var first = SubjectBlindIndex.Open(path, create: true);
        var second = SubjectBlindIndex.Open(path, create: false);

        Assert.Equal(first.Name("Jane Example"), second.Name("Jane Example"));
        if (!OperatingSystem.IsWindows())
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(path));
        }
    }

    [Fact]
    public void Refuses_a_missing_key_when_it_may_not_create_one_and_a_short_key()
    {
        Assert.Throws<SealException>(() => SubjectBlindIndex.Open(_directory.Combine("none.key"), create: false));
        Assert.Throws<SealException>(() => new SubjectBlindIndex(new byte[16]));
        File.WriteAllText(_directory.Combine("bad.key"), "not base64 !!");
        Assert.Throws<SealException>(() => SubjectBlindIndex.Open(_directory.Combine("bad.key"), create: false));
    }
}
