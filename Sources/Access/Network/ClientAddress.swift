import Foundation
import NIOCore

/// Who is on the other end of a handshake, for logs and per-IP limits.
///
/// Without a trusted proxy it is the TCP peer. When the peer is a trusted proxy, it is the rightmost
/// `X-Forwarded-For` hop that is not itself a trusted proxy: each proxy appends the address it saw, so
/// the entries right of the first untrusted one were written by our own proxies and the ones left of
/// it by the client, who can put anything there.
public struct ClientAddress: Sendable, Equatable, CustomStringConvertible {
    /// The client's address (nil only for a peer without one, such as a Unix socket).
    public let ip: IPAddress?
    /// The TCP peer: the proxy when the address came from `X-Forwarded-For`.
    public let peer: IPAddress?

    public init(ip: IPAddress?, peer: IPAddress?) {
        self.ip = ip
        self.peer = peer
    }

    /// True when `ip` was taken from `X-Forwarded-For`.
    public var isForwarded: Bool { self.ip != self.peer }

    public var description: String {
        let client = self.ip.map { "\($0)" } ?? "unknown"
        guard self.isForwarded, let peer = self.peer else { return client }
        return "\(client) via \(peer)"
    }

    /// - Parameter forwardedFor: the `X-Forwarded-For` header lines in arrival order.
    public static func resolve(
        peer: IPAddress?,
        forwardedFor: [String],
        trustedProxies: TrustedProxies
    ) -> ClientAddress {
        guard let peer, !forwardedFor.isEmpty, trustedProxies.contains(peer) else {
            return ClientAddress(ip: peer, peer: peer)
        }
        var client = peer
        for line in forwardedFor.reversed() {
            for hop in line.split(separator: ",").reversed() {
                // Anything unreadable ends the walk: the last address we could trust stands.
                guard let address = Self.address(of: hop.trimmingCharacters(in: .whitespaces)) else {
                    return ClientAddress(ip: client, peer: peer)
                }
                client = address
                if !trustedProxies.contains(address) { return ClientAddress(ip: client, peer: peer) }
            }
        }
        return ClientAddress(ip: client, peer: peer)
    }

    public static func resolve(
        peer: SocketAddress?,
        forwardedFor: [String],
        trustedProxies: TrustedProxies
    ) -> ClientAddress {
        self.resolve(
            peer: peer?.ipAddress.flatMap { IPAddress($0) },
            forwardedFor: forwardedFor,
            trustedProxies: trustedProxies
        )
    }

    /// A hop as proxies write it: `192.0.2.1`, `2001:db8::1`, and leniently `192.0.2.1:4711` or `[2001:db8::1]:4711`.
    static func address(of hop: String) -> IPAddress? {
        if let address = IPAddress(hop) { return address }
        if hop.hasPrefix("["), let close = hop.firstIndex(of: "]") {
            return IPAddress(hop[hop.index(after: hop.startIndex)..<close])
        }
        let parts = hop.split(separator: ":")
        if parts.count == 2 { return IPAddress(parts[0]) }
        return nil
    }
}
