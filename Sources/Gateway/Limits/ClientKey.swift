import NIOCore

/// What per-IP connection limits count by: an IPv4 address, or the /64 network of an IPv6 address
/// (the smallest block one subscriber is normally given, so a client cannot dodge the limit by rotating
/// through its own addresses). IPv4-mapped IPv6 peers (dual-stack listeners) count as their IPv4 address.
struct ClientKey: Hashable, Sendable {
    let bits: UInt128
    let isIPv4: Bool
    /// 127.0.0.0/8 or ::1: this machine — a local reverse proxy (whose clients only trusted-proxy
    /// resolution can tell apart) or local tooling; not counted per IP.
    let isLoopback: Bool

    init(ipv4 bits: UInt32) {
        self.bits = UInt128(bits)
        self.isIPv4 = true
        self.isLoopback = bits >> 24 == 127
    }

    init(ipv6 bits: UInt128) {
        let mapped = bits >> 32 == 0xFFFF
        self.bits = mapped ? bits & 0xFFFF_FFFF : bits & ~UInt128(UInt64.max)
        self.isIPv4 = mapped
        self.isLoopback = mapped ? (bits & 0xFFFF_FFFF) >> 24 == 127 : bits == 1
    }

    /// nil for addresses without an IP (Unix domain sockets): those are not counted per client.
    init?(_ address: SocketAddress?) {
        // The address bytes, network order, read where Linux's sockaddr_in/sockaddr_in6 keep them.
        switch address {
        case let address? where address.protocol == .inet:
            let bits = address.withSockAddr { pointer, _ in
                UnsafeRawPointer(pointer).loadUnaligned(fromByteOffset: 4, as: UInt32.self)
            }
            self.init(ipv4: UInt32(bigEndian: bits))
        case let address? where address.protocol == .inet6:
            let bits = address.withSockAddr { pointer, _ in
                UnsafeRawBufferPointer(start: UnsafeRawPointer(pointer) + 8, count: 16).reduce(UInt128(0)) {
                    $0 << 8 | UInt128($1)
                }
            }
            self.init(ipv6: bits)
        default:
            return nil
        }
    }

    /// Spreads keys over the limiter's shards.
    var shardHash: Int {
        let folded = UInt64(truncatingIfNeeded: self.bits) ^ UInt64(truncatingIfNeeded: self.bits >> 64)
        return Int(truncatingIfNeeded: (folded &* 0x9E37_79B9_7F4A_7C15) >> 32)
    }
}
