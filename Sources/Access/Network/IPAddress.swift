#if canImport(Glibc)
import Glibc
#endif

/// An IPv4 or IPv6 address without a port, as a value: per-IP limits key on it, trusted-proxy blocks
/// match it. IPv4-mapped IPv6 addresses (`::ffff:10.0.0.1`, what a dual-stack listener reports for an
/// IPv4 peer) are stored as the IPv4 address, so `127.0.0.1` in a setting matches them.
public struct IPAddress: Hashable, Sendable, CustomStringConvertible {
    /// The address bits; an IPv4 address occupies the low 32.
    public let bits: UInt128
    public let isIPv4: Bool

    public init(ipv4 bits: UInt32) {
        self.bits = UInt128(bits)
        self.isIPv4 = true
    }

    public init(ipv6 bits: UInt128) {
        let mapped = bits >> 32 == 0xFFFF
        self.bits = mapped ? bits & UInt128(UInt32.max) : bits
        self.isIPv4 = mapped
    }

    /// Parses the textual forms `inet_pton` accepts (`192.0.2.1`, `2001:db8::1`); also `[2001:db8::1]`.
    public init?(_ text: some StringProtocol) {
        var text = Substring(text)
        if text.hasPrefix("["), text.hasSuffix("]") { text = text.dropFirst().dropLast() }
        guard !text.isEmpty, text.utf8.count <= 45 else { return nil }
        let string = String(text)
        if !string.contains(":") {
            var address = in_addr()
            guard inet_pton(AF_INET, string, &address) == 1 else { return nil }
            self.init(ipv4: UInt32(bigEndian: address.s_addr))
            return
        }
        var address = in6_addr()
        guard inet_pton(AF_INET6, string, &address) == 1 else { return nil }
        let value = withUnsafeBytes(of: &address) { raw in raw.reduce(UInt128(0)) { $0 << 8 | UInt128($1) } }
        self.init(ipv6: value)
    }

    /// Address length in bits: 32 or 128.
    public var bitWidth: Int { self.isIPv4 ? 32 : 128 }

    public var description: String {
        var text = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
        let written: UnsafePointer<CChar>?
        if self.isIPv4 {
            var address = in_addr(s_addr: UInt32(truncatingIfNeeded: self.bits).bigEndian)
            written = inet_ntop(AF_INET, &address, &text, socklen_t(text.count))
        } else {
            var address = in6_addr()
            withUnsafeMutableBytes(of: &address) { raw in
                for index in 0..<16 { raw[index] = UInt8(truncatingIfNeeded: self.bits >> (8 * (15 - index))) }
            }
            written = inet_ntop(AF_INET6, &address, &text, socklen_t(text.count))
        }
        guard written != nil else { return "?" }
        return String(decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
