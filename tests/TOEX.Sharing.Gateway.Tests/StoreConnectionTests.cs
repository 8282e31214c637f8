using Npgsql;
using TOEX.Sharing.ServiceDefaults;

namespace TOEX.Sharing.Gateway.Tests;

/// <summary>A PostgreSQL store's connections prepare the statements they repeat, unless the operator says otherwise.</summary>
public sealed class StoreConnectionTests
{
    [Fact]
    public void A_connection_string_without_its_own_setting_gets_automatic_preparation()
    {
        var tuned = new NpgsqlConnectionStringBuilder(Stores.WithAutoPrepare("Host=db;Database=gateway;Username=gateway;Password=p w"));
        Assert.Equal(Stores.AutoPrepared, tuned.MaxAutoPrepare);
        Assert.Equal(("db", "gateway", "p w"), (tuned.Host, tuned.Database, tuned.Password));
    }

    [Theory]
    [InlineData("Host=db;Max Auto Prepare=0", 0)]
    [InlineData("Host=db;maxautoprepare=10", 10)]
    public void An_operators_own_setting_is_kept(string connectionString, int expected)
    {
        Assert.Equal(connectionString, Stores.WithAutoPrepare(connectionString));
        Assert.Equal(expected, new NpgsqlConnectionStringBuilder(connectionString).MaxAutoPrepare);
    }
}
