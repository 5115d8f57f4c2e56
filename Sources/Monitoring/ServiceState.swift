import Atomics

/// The few facts readiness depends on that are not counters: set by their owners, read by `/ready`,
/// `/metrics` and the systemd status.
public final class ServiceState: Sendable {
    /// A graceful shutdown started: no new connections, no more reads.
    public let draining = ManagedAtomic<Bool>(false)
    /// The last broker check succeeded (a broker connection is up, or a metadata request was answered);
    /// false until the first check.
    public let brokerReachable = ManagedAtomic<Bool>(false)

    public init() {}

    public func setBrokerReachable(_ reachable: Bool) {
        self.brokerReachable.store(reachable, ordering: .relaxed)
    }

    public var isDraining: Bool { self.draining.load(ordering: .relaxed) }
    public var isBrokerReachable: Bool { self.brokerReachable.load(ordering: .relaxed) }
}
