import Atomics

/// WebSocket connections and refused handshakes, counted with relaxed atomics.
public final class ConnectionCounters: Sendable {
    /// The `reason` label values of `kcp_connections_rejected_total`: the gateway's HTTP error codes.
    /// Anything else counts as `other`, so the label set stays closed.
    public static let rejectionReasons = [
        "not_found", "method_not_allowed", "bad_handshake", "upgrade_required", "unsupported_websocket_version",
        "invalid_chat", "invalid_query", "overloaded", "shutting_down",
        "unauthorized", "forbidden", "origin_not_allowed",
        // hardening limits
        "too_many_connections", "too_many_connections_per_ip", "handshake_timeout", "chat_not_allowed",
        "unknown_chat", "too_many_topics", "kafka_unavailable",
        "other",
    ]

    /// The `reason` label values of `kcp_connections_closed_total`: why the server closed a WebSocket.
    /// Closes the client started, and resets, are not counted.
    public static let closeReasons = [
        "protocol_error", "invalid_payload", "message_too_big", "rate_limited", "idle_timeout", "overloaded",
        "shutting_down", "other",
    ]

    private let openedCount = ManagedAtomic<Int>(0)
    private let activeCount = ManagedAtomic<Int>(0)
    private let pausedCount = ManagedAtomic<Int>(0)
    private let rejectedByReason: [ManagedAtomic<Int>] = rejectionReasons.map { _ in ManagedAtomic(0) }
    private let closedByReason: [ManagedAtomic<Int>] = closeReasons.map { _ in ManagedAtomic(0) }
    private let rateLimitPauseCount = ManagedAtomic<Int>(0)

    public init() {}

    public func opened() {
        self.openedCount.wrappingIncrement(ordering: .relaxed)
        self.activeCount.wrappingIncrement(ordering: .relaxed)
    }

    public func closed() {
        self.activeCount.wrappingDecrement(ordering: .relaxed)
    }

    /// A connection started (true) or stopped (false) being held back by backpressure.
    public func setPaused(_ paused: Bool) {
        if paused {
            self.pausedCount.wrappingIncrement(ordering: .relaxed)
        } else {
            self.pausedCount.wrappingDecrement(ordering: .relaxed)
        }
    }

    /// An HTTP request (handshake or not) answered with an error code.
    public func rejected(code: String) {
        let index = Self.rejectionReasons.firstIndex(of: code) ?? Self.rejectionReasons.count - 1
        self.rejectedByReason[index].wrappingIncrement(ordering: .relaxed)
    }

    /// The server closed a WebSocket for `reason` (one of `closeReasons`, else counted as `other`).
    public func closedByServer(reason: String) {
        let index = Self.closeReasons.firstIndex(of: reason) ?? Self.closeReasons.count - 1
        self.closedByReason[index].wrappingIncrement(ordering: .relaxed)
    }

    /// A connection stopped reading because it exceeded its message or byte rate.
    public func rateLimitPaused() {
        self.rateLimitPauseCount.wrappingIncrement(ordering: .relaxed)
    }

    public var rateLimitPauses: Int { self.rateLimitPauseCount.load(ordering: .relaxed) }

    public func closes() -> [(reason: String, count: Int)] {
        zip(Self.closeReasons, self.closedByReason).map { ($0, $1.load(ordering: .relaxed)) }
    }

    public var openedTotal: Int { self.openedCount.load(ordering: .relaxed) }
    public var active: Int { self.activeCount.load(ordering: .relaxed) }
    public var paused: Int { self.pausedCount.load(ordering: .relaxed) }

    public func rejections() -> [(reason: String, count: Int)] {
        zip(Self.rejectionReasons, self.rejectedByReason).map { ($0, $1.load(ordering: .relaxed)) }
    }
}
