using System.Net;
using System.Net.Sockets;

namespace TOEX.Sharing.Gateway.Delivery;

/// <summary>
/// Addresses a webhook may not connect to unless its partner is a local development endpoint: loopback,
/// private, shared (CGNAT), link-local, unique-local, site-local, multicast, unspecified, reserved and
/// documentation ranges, in IPv4 and IPv6, the 6to4 relay anycast and Teredo ranges, and IPv4 carried in IPv6 (mapped,
/// compatible, translated, NAT64, local-use NAT64, 6to4).
/// </summary>
public static class AddressPolicy
{
    private static readonly (IPAddress Network, int Prefix)[] V4 =
    [
        (IPAddress.Parse("0.0.0.0"), 8), (IPAddress.Parse("10.0.0.0"), 8), (IPAddress.Parse("100.64.0.0"), 10),
        (IPAddress.Parse("127.0.0.0"), 8), (IPAddress.Parse("169.254.0.0"), 16), (IPAddress.Parse("172.16.0.0"), 12),
        (IPAddress.Parse("192.0.0.0"), 24), (IPAddress.Parse("192.0.2.0"), 24), (IPAddress.Parse("192.168.0.0"), 16),
        (IPAddress.Parse("192.88.99.0"), 24), (IPAddress.Parse("198.18.0.0"), 15), (IPAddress.Parse("198.51.100.0"), 24), (IPAddress.Parse("203.0.113.0"), 24),
        (IPAddress.Parse("224.0.0.0"), 4), (IPAddress.Parse("240.0.0.0"), 4),
    ];

    private static readonly (IPAddress Network, int Prefix)[] V6 =
    [
        (IPAddress.Parse("::"), 128), (IPAddress.Parse("::1"), 128), (IPAddress.Parse("fe80::"), 10),
        (IPAddress.Parse("fc00::"), 7), (IPAddress.Parse("fec0::"), 10), (IPAddress.Parse("ff00::"), 8),
        (IPAddress.Parse("2001:db8::"), 32), (IPAddress.Parse("100::"), 64),
        // Teredo (RFC 4380) tunnels to an IPv4 address the policy cannot see; local-use NAT64 (RFC 8215) translates to any.
        // IPv4-translated addresses (::ffff:0:a.b.c.d, RFC 2765) are for translators, never a partner's endpoint.
        (IPAddress.Parse("2001::"), 32), (IPAddress.Parse("64:ff9b:1::"), 48), (IPAddress.Parse("::ffff:0:0:0"), 96),
    ];

    /// <summary>Why the address is refused, or null when a webhook may connect to it.</summary>
    public static string? Refusal(IPAddress address)
    {
        if (address.IsIPv4MappedToIPv6)
        {
            return Refusal(address.MapToIPv4());
        }
        if (address.AddressFamily == AddressFamily.InterNetwork)
        {
            return V4.Any(n => InNetwork(address, n.Network, n.Prefix)) ? Describe(address) : null;
        }
        if (address.AddressFamily != AddressFamily.InterNetworkV6)
        {
            return $"{address} is not an IP address";
        }
        if (V6.Any(n => InNetwork(address, n.Network, n.Prefix)))
        {
            return Describe(address);
        }
        var bytes = address.GetAddressBytes();
        // IPv4-compatible (::a.b.c.d), NAT64 (64:ff9b::/96) and 6to4 (2002::/16) carry an IPv4 address: judge that.
        if (InNetwork(address, IPAddress.IPv6Any, 96) || InNetwork(address, IPAddress.Parse("64:ff9b::"), 96))
        {
            return Refusal(new IPAddress(bytes[12..16]));
        }
        if (InNetwork(address, IPAddress.Parse("2002::"), 16))
        {
            return Refusal(new IPAddress(bytes[2..6]));
        }
        return null;
    }

    private static string Describe(IPAddress address) => address switch
    {
        _ when IPAddress.IsLoopback(address) => $"{address} is a loopback address",
        { IsIPv6LinkLocal: true } => $"{address} is a link-local address",
        { IsIPv6Multicast: true } => $"{address} is a multicast address",
        _ => $"{address} is a private, link-local, multicast or reserved address",
    };

    private static bool InNetwork(IPAddress address, IPAddress network, int prefix)
    {
        if (address.AddressFamily != network.AddressFamily)
        {
            return false;
        }
        var a = address.GetAddressBytes();
        var n = network.GetAddressBytes();
        for (var bit = 0; bit < prefix; bit++)
        {
            var mask = 0x80 >> (bit % 8);
            if ((a[bit / 8] & mask) != (n[bit / 8] & mask))
            {
                return false;
            }
        }
        return true;
    }
}
