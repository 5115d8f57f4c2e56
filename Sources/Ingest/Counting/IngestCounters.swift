import Atomics

/// Every outcome of every message, counted with relaxed atomics (no lock anywhere near the hot path).
///
/// `accepted` messages end in exactly one of `delivered` or `failed`, so after a drain
/// `accepted == delivered + failed` is the no-silent-loss invariant the tests check.
public final class IngestCounters: Sendable {
    /// Text messages that reached the contract check.
    public let received = ManagedAtomic<Int>(0)
    /// Messages refused by the contract (error reply sent, nothing published).
    public let rejected = ManagedAtomic<Int>(0)
    /// Messages written to a topic ring: from here on they are delivered or reported failed.
    public let accepted = ManagedAtomic<Int>(0)
    /// Messages handed to librdkafka.
    public let produced = ManagedAtomic<Int>(0)
    /// Messages the broker confirmed.
    public let delivered = ManagedAtomic<Int>(0)
    /// Accepted messages that could not be delivered (reported to ack-mode clients as nacks, always logged).
    public let failed = ManagedAtomic<Int>(0)
    /// Bytes of accepted record values.
    public let acceptedBytes = ManagedAtomic<Int>(0)
    /// Payload bytes of every text message received, accepted or not.
    public let receivedBytes = ManagedAtomic<Int>(0)
    /// `rejected`, by `MessageRejectionKind.rawValue` (refusals at shutdown are counted in `refusedAtShutdown`).
    public let rejectedByKind: [ManagedAtomic<Int>] = MessageRejectionKind.allCases.map { _ in ManagedAtomic(0) }
    /// `failed`, by `DeliveryFailureCause.rawValue`.
    public let failedByCause: [ManagedAtomic<Int>] = DeliveryFailureCause.allCases.map { _ in ManagedAtomic(0) }
    /// librdkafka's produce → delivery report time of delivered messages; written by the producer thread only.
    public let deliveryLatency = LatencyHistogram()
    /// Messages read from a client but refused because the daemon was shutting down before they fit a ring.
    public let refusedAtShutdown = ManagedAtomic<Int>(0)
    /// Times a connection stopped reading because its ring was full.
    public let backpressurePauses = ManagedAtomic<Int>(0)

    public init() {}

    @inline(__always)
    public static func add(_ counter: ManagedAtomic<Int>, _ value: Int = 1) {
        counter.wrappingIncrement(by: value, ordering: .relaxed)
    }

    /// A received message the contract refused.
    @inline(__always)
    public func countRejection(_ kind: MessageRejectionKind, payloadBytes: Int) {
        Self.add(self.received)
        Self.add(self.receivedBytes, payloadBytes)
        Self.add(self.rejected)
        Self.add(self.rejectedByKind[kind.rawValue])
    }

    /// Rejections by kind, for metrics; `shuttingDown` is `refusedAtShutdown`.
    public func rejectionsByKind() -> [(kind: MessageRejectionKind, count: Int)] {
        MessageRejectionKind.allCases.map { kind in
            (kind, kind == .shuttingDown ? self.refusedAtShutdown.load(ordering: .relaxed) : self.rejectedByKind[kind.rawValue].load(ordering: .relaxed))
        }
    }

    /// Failures by cause, for metrics.
    public func failuresByCause() -> [(cause: DeliveryFailureCause, count: Int)] {
        DeliveryFailureCause.allCases.map { ($0, self.failedByCause[$0.rawValue].load(ordering: .relaxed)) }
    }

    public struct Snapshot: Sendable, Equatable {
        public var received, rejected, accepted, produced, delivered, failed, acceptedBytes, refusedAtShutdown, backpressurePauses: Int
    }

    public func snapshot() -> Snapshot {
        Snapshot(
            received: self.received.load(ordering: .relaxed),
            rejected: self.rejected.load(ordering: .relaxed),
            accepted: self.accepted.load(ordering: .relaxed),
            produced: self.produced.load(ordering: .relaxed),
            delivered: self.delivered.load(ordering: .relaxed),
            failed: self.failed.load(ordering: .relaxed),
            acceptedBytes: self.acceptedBytes.load(ordering: .relaxed),
            refusedAtShutdown: self.refusedAtShutdown.load(ordering: .relaxed),
            backpressurePauses: self.backpressurePauses.load(ordering: .relaxed)
        )
    }
}
