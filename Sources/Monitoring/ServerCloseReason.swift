/// Why the server closed a WebSocket: the `reason` label of `kcp_connections_closed_total`. Closes the
/// client started, and resets, are not counted.
public enum ServerCloseReason: String, CaseIterable, Sendable {
    /// The client broke RFC 6455 (close 1002).
    case protocolError = "protocol_error"
    /// A text message that is not UTF-8 (close 1007).
    case invalidPayload = "invalid_payload"
    /// A message over `limits.max_message_bytes` (close 1009).
    case messageTooBig = "message_too_big"
    /// Over its message or byte rate for longer than `limits.rate_violation_close_seconds` (close 1008).
    case rateLimited = "rate_limited"
    /// Silent past `limits.idle_timeout_seconds` (close 1001).
    case idleTimeout = "idle_timeout"
    /// Blocked by Kafka without progress past `limits.overload_close_seconds` (close 1013).
    case overloaded
    /// Graceful shutdown (close 1001).
    case shuttingDown = "shutting_down"
    /// The JWT the connection was opened with expired (close 1008).
    case credentialExpired = "credential_expired"
    /// A reload removed the connection's token, or it no longer allows the chat, or a token became
    /// required (close 1008).
    case credentialRevoked = "credential_revoked"
    /// A reload no longer allows the connection's chat (`topics.chat_pattern`, `topics.allowed_chats`) (close 1008).
    case chatNotAllowed = "chat_not_allowed"
    /// Any other close code.
    case other

    /// The label value.
    public var label: String { self.rawValue }
}
