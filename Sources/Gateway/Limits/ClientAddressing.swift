import Access
import NIOCore

/// The client a handshake counts against for per-IP limits: the address resolved through
/// `http.trusted_proxies` (the last untrusted `X-Forwarded-For` hop behind a trusted proxy), else the
/// TCP peer.
func clientAddress(channel: any Channel, session: HandshakeSession) -> ClientKey? {
    if let ip = session.client?.ip {
        return ip.isIPv4 ? ClientKey(ipv4: UInt32(truncatingIfNeeded: ip.bits)) : ClientKey(ipv6: ip.bits)
    }
    return ClientKey(channel.remoteAddress)
}
