import Atomics

/// WebSocket connections and refused handshakes, counted with relaxed atomics.
public final class ConnectionCounters: Sendable {
    private let openedCount = ManagedAtomic<Int>(0)
    private let activeCount = ManagedAtomic<Int>(0)
    private let pausedCount = ManagedAtomic<Int>(0)
    /// By `ConnectionRejection`, in `allCases` order.
    private let rejectedByReason: [ManagedAtomic<Int>] = ConnectionRejection.allCases.map { _ in ManagedAtomic(0) }
    /// By `ServerCloseReason`, in `allCases` order.
    private let closedByReason: [ManagedAtomic<Int>] = ServerCloseReason.allCases.map { _ in ManagedAtomic(0) }
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

    /// An HTTP request (handshake or not) answered with an error.
    public func rejected(_ reason: ConnectionRejection) {
        self.rejectedByReason[Self.index(of: reason)].wrappingIncrement(ordering: .relaxed)
    }

    /// The server closed a WebSocket.
    public func closedByServer(_ reason: ServerCloseReason) {
        self.closedByReason[Self.index(of: reason)].wrappingIncrement(ordering: .relaxed)
    }

    /// The position of `value` in its type's `allCases`, the order the counters are kept in (a case is
    /// always there, so the `?? 0` never applies).
    private static func index<Reason: CaseIterable & Equatable>(of value: Reason) -> Int
    where Reason.AllCases == [Reason] {
        Reason.allCases.firstIndex(of: value) ?? 0
    }

    /// A connection stopped reading because it exceeded its message or byte rate.
    public func rateLimitPaused() {
        self.rateLimitPauseCount.wrappingIncrement(ordering: .relaxed)
    }

    public var rateLimitPauses: Int { self.rateLimitPauseCount.load(ordering: .relaxed) }

    public func closes() -> [(reason: ServerCloseReason, count: Int)] {
        zip(ServerCloseReason.allCases, self.closedByReason).map { ($0, $1.load(ordering: .relaxed)) }
    }

    public var openedTotal: Int { self.openedCount.load(ordering: .relaxed) }
    public var active: Int { self.activeCount.load(ordering: .relaxed) }
    public var paused: Int { self.pausedCount.load(ordering: .relaxed) }

    public func rejections() -> [(reason: ConnectionRejection, count: Int)] {
        zip(ConnectionRejection.allCases, self.rejectedByReason).map { ($0, $1.load(ordering: .relaxed)) }
    }
}
