import Monitoring
import WebSocketProtocol

extension PoliteCloseCause {
    /// The close frame's code and reason, and the `kcp_connections_closed_total` reason it counts as.
    func closeFrame(_ limits: GatewayLimits) -> (code: WebSocketCloseCode, reason: String, counted: ServerCloseReason) {
        switch self {
        case .rateLimited:
            var rates: [String] = []
            if limits.messagesPerSecond > 0 { rates.append("\(limits.messagesPerSecond) messages/s") }
            if limits.bytesPerSecond > 0 { rates.append("\(limits.bytesPerSecond) bytes/s") }
            let reason =
                "rate limit exceeded for more than \(limits.rateViolationClose): at most \(rates.joined(separator: " and "))"
            return (.policyViolation, reason, .rateLimited)
        case .idleTimeout:
            return (.goingAway, "idle timeout: nothing received for \(limits.idleTimeout)", .idleTimeout)
        case .overloaded:
            return (
                .tryAgainLater, "overloaded: no message could be queued for \(limits.overloadClose); try again later",
                .overloaded
            )
        case .shuttingDown:
            return (.goingAway, "server shutting down", .shuttingDown)
        case .credentialExpired:
            return (
                .policyViolation, "token expired: reconnect with a fresh token to go on sending",
                .credentialExpired
            )
        case .credentialRevoked(let message):
            return (.policyViolation, "\(message): reconnect with a valid token", .credentialRevoked)
        case .chatNotAllowed:
            return (.policyViolation, "this chat is no longer allowed by the server's configuration", .chatNotAllowed)
        }
    }

    /// The connection's credential or chat is no longer allowed: worth a log line of its own.
    var endsAccess: Bool {
        switch self {
        case .credentialExpired, .credentialRevoked, .chatNotAllowed: true
        case .rateLimited, .idleTimeout, .overloaded, .shuttingDown: false
        }
    }

    /// Limit closes handle what was already read right away, so that a close frame of the client's among
    /// it is seen; the shutdown's close follows `refuseBlockedInput`, which handled it, and only reads on.
    var handlesReadInput: Bool { self != .shuttingDown }
}
