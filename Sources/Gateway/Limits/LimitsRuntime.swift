import ChatContract
import Ingest
import NIOCore

/// The shared state behind the limits: the connection counts, the topic list cache, and the timings
/// converted once to the nanoseconds the connection handlers compare against.
final class LimitsRuntime: Sendable {
    let limits: GatewayLimits
    let connections: ConnectionLimiter
    /// nil unless `topics.require_existing`.
    let topics: TopicDirectory?
    let idleTimeout: UInt64
    let pingInterval: UInt64
    let overloadClose: UInt64
    /// How often each event loop looks at its connections for idle and overload timeouts; nil when
    /// neither is on. A quarter of the shortest timeout, between 10 ms and 1 s: precise enough, and a
    /// sweep over all of a loop's connections once a second costs nothing noticeable.
    let sweepInterval: TimeAmount?

    /// The liveness timeouts as a connection takes them.
    var timeouts: ConnectionLiveness.Timeouts {
        .init(idle: self.idleTimeout, ping: self.pingInterval, overloadClose: self.overloadClose)
    }

    /// - Parameter previous: the runtime a reload replaces: its connection counts carry over (with the new
    ///   maxima), and so does its topic list while the cache time and handshake timeout are the same.
    init(_ limits: GatewayLimits, ingest: any MessageIngest, replacing previous: LimitsRuntime? = nil) {
        self.limits = limits
        if let previous {
            previous.connections.update(
                maxConnections: limits.maxConnections,
                maxPerClient: limits.maxConnectionsPerIP
            )
            self.connections = previous.connections
        } else {
            self.connections = ConnectionLimiter(
                maxConnections: limits.maxConnections,
                maxPerClient: limits.maxConnectionsPerIP
            )
        }
        if limits.requireExistingTopics, let topics = previous?.topics,
            previous?.limits.topicListTTL == limits.topicListTTL,
            previous?.limits.handshakeTimeout == limits.handshakeTimeout
        {
            self.topics = topics
        } else if limits.requireExistingTopics {
            // Within the handshake timeout, so the answer can still reach the client; 5 s at most.
            let handshakeMilliseconds = limits.handshakeTimeout.nanoseconds / 1_000_000
            let timeout = Int32(handshakeMilliseconds == 0 ? 5000 : min(5000, max(500, handshakeMilliseconds / 2)))
            self.topics = TopicDirectory(ttl: limits.topicListTTL) {
                ingest.topicNames(withPrefix: TopicName.chatPrefix, timeoutMilliseconds: timeout)
            }
        } else {
            self.topics = nil
        }
        self.idleTimeout = limits.idleTimeout.nanoseconds
        self.pingInterval = limits.pingInterval.nanoseconds
        self.overloadClose = limits.overloadClose.nanoseconds
        let shortest = [self.idleTimeout, self.pingInterval, self.overloadClose].filter { $0 > 0 }.min()
        self.sweepInterval = shortest.map { .nanoseconds(Int64(min(1_000_000_000, max(10_000_000, $0 / 4)))) }
    }
}
