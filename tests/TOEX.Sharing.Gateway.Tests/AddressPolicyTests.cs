using System.Net;
using TOEX.Sharing.Gateway.Delivery;

namespace TOEX.Sharing.Gateway.Tests;

/// <summary>Which addresses a webhook may connect to when its partner is not a local development endpoint.</summary>
public sealed class AddressPolicyTests
{
    [Theory]
    [InlineData("127.0.0.1")]
    [InlineData("127.8.9.10")]
    [InlineData("10.1.2.3")]
    [InlineData("172.16.0.1")]
    [InlineData("172.31.255.255")]
    [InlineData("192.168.1.1")]
    [InlineData("169.254.169.254")]
    [InlineData("100.64.0.1")]
    [InlineData("0.0.0.0")]
    [InlineData("224.0.0.1")]
    [InlineData("255.255.255.255")]
    [InlineData("::1")]
    [InlineData("::")]
    [InlineData("fe80::1")]
    [InlineData("fc00::1")]
    [InlineData("fd12:3456:789a::1")]
    [InlineData("ff02::1")]
    [InlineData("::ffff:127.0.0.1")]
    [InlineData("::ffff:10.0.0.1")]
    [InlineData("::ffff:169.254.169.254")]
    [InlineData("64:ff9b::a00:1")]
    [InlineData("2002:c0a8:101::1")]
    [InlineData("::ffff:0:7f00:1")]
    [InlineData("::ffff:0:808:808")]
    [InlineData("64:ff9b:1::808:808")]
    [InlineData("2001:0:4136:e378:8000:63bf:3fff:fdd2")]
    [InlineData("192.88.99.1")]
    public void Refuses_loopback_private_link_local_unique_local_and_multicast_addresses(string address) =>
        Assert.NotNull(AddressPolicy.Refusal(IPAddress.Parse(address)));

    [Theory]
    [InlineData("8.8.8.8")]
    [InlineData("172.32.0.1")]
    [InlineData("193.0.0.1")]
    [InlineData("2a00:1450:4009:81f::200e")]
    [InlineData("::ffff:8.8.8.8")]
    public void Allows_public_addresses(string address) =>
        Assert.Null(AddressPolicy.Refusal(IPAddress.Parse(address)));
}
