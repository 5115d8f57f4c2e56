/// Why an HTTP request (a handshake or not) was answered with an error instead of a WebSocket: the JSON
/// `code` of the answer and the `reason` label of `kcp_connections_rejected_total`, one closed set.
public enum ConnectionRejection: String, CaseIterable, Sendable {
    case notFound = "not_found"
    case methodNotAllowed = "method_not_allowed"
    case badHandshake = "bad_handshake"
    case upgradeRequired = "upgrade_required"
    case unsupportedWebSocketVersion = "unsupported_websocket_version"
    case invalidChat = "invalid_chat"
    case invalidQuery = "invalid_query"
    case overloaded
    case shuttingDown = "shutting_down"
    // access control
    case unauthorized
    case forbidden
    case originNotAllowed = "origin_not_allowed"
    // hardening limits
    case tooManyConnections = "too_many_connections"
    case tooManyConnectionsPerIP = "too_many_connections_per_ip"
    case handshakeTimeout = "handshake_timeout"
    case chatNotAllowed = "chat_not_allowed"
    case unknownChat = "unknown_chat"
    case tooManyTopics = "too_many_topics"
    case kafkaUnavailable = "kafka_unavailable"
    /// Kept so the label set stays the same as before the enum; nothing rejects with it today.
    case other

    /// The label value, and the JSON `code` of the HTTP answer.
    public var label: String { self.rawValue }
}
