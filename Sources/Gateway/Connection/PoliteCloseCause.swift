/// Why the server starts a close handshake itself (its close frame first, then the client's awaited), as
/// opposed to failing the connection for a protocol violation.
enum PoliteCloseCause: Equatable, Sendable {
    /// Over its rate for longer than `limits.rate_violation_close_seconds` (1008).
    case rateLimited
    /// Nothing received for `limits.idle_timeout_seconds` (1001).
    case idleTimeout
    /// Blocked by Kafka without progress for `limits.overload_close_seconds` (1013).
    case overloaded
    /// Graceful shutdown, after the acks were delivered (1001).
    case shuttingDown
    /// The JWT the connection was opened with expired (its `exp` plus `auth.jwt_leeway_seconds`) (1008).
    case credentialExpired
    /// A reload turned the connection's credential away (`AccessControl.recheck`); the message says how (1008).
    case credentialRevoked(String)
    /// A reload's chat pattern or allowlist no longer admits the connection's chat (1008).
    case chatNotAllowed
}
