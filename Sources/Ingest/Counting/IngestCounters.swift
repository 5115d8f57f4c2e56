import Atomics

/// Every outcome of every message, counted with relaxed atomics (no lock anywhere near the hot path).
///
/// `accepted` messages end in exactly one of `delivered` or `failed`, so after a drain
/// `accepted == delivered + failed` is the no-silent-loss invariant the tests check.
public final class IngestCounters: Sendable {
    /// What each event loop counts per message, in its own `CounterBlock`.
    enum LoopSlot: Int, CaseIterable {
        /// Text messages that reached the contract check.
        case received
        /// Their payload bytes, accepted or not.
        case receivedBytes
        /// Messages written to a topic ring: from here on they are delivered or reported failed.
        case accepted
        /// Bytes of the accepted record values.
        case acceptedBytes
    }

    /// What the producer thread counts per message, in its own `CounterBlock`.
    enum ProducerSlot: Int, CaseIterable {
        /// Messages handed to librdkafka.
        case produced
        /// Messages the broker confirmed.
        case delivered
        /// Accepted messages that could not be delivered (nacked to ack-mode clients, always logged).
        case failed
    }

    private let loops: [CounterBlock]
    private let producer = CounterBlock(count: ProducerSlot.allCases.count + DeliveryFailureCause.allCases.count)

    /// Messages refused by the contract (error reply sent, nothing published): rare, shared by all loops.
    public let rejected = ManagedAtomic<Int>(0)
    /// `rejected`, by `MessageRejectionKind.rawValue` (refusals at shutdown are counted in `refusedAtShutdown`).
    public let rejectedByKind: [ManagedAtomic<Int>] = MessageRejectionKind.allCases.map { _ in ManagedAtomic(0) }
    /// Messages read from a client but refused because the daemon was shutting down before they fit a ring.
    public let refusedAtShutdown = ManagedAtomic<Int>(0)
    /// Times a connection stopped reading because its ring was full.
    public let backpressurePauses = ManagedAtomic<Int>(0)
    /// librdkafka's produce → delivery report time of delivered messages; written by the producer thread only.
    public let deliveryLatency = LatencyHistogram()

    /// - Parameter eventLoops: how many event loops count messages (`route` 0..<eventLoops).
    public init(eventLoops: Int = 1) {
        self.loops = (0..<max(eventLoops, 1)).map { _ in CounterBlock(count: LoopSlot.allCases.count) }
    }

    @inline(__always)
    public static func add(_ counter: ManagedAtomic<Int>, _ value: Int = 1) {
        counter.wrappingIncrement(by: value, ordering: .relaxed)
    }

    // MARK: event loops (each on its own route only)

    /// A message written to a ring.
    @inline(__always)
    public func countAccepted(route: Int, payloadBytes: Int, recordBytes: Int) {
        let block = self.loops[route]
        block.bump(LoopSlot.received.rawValue)
        block.bump(LoopSlot.receivedBytes.rawValue, by: payloadBytes)
        block.bump(LoopSlot.accepted.rawValue)
        block.bump(LoopSlot.acceptedBytes.rawValue, by: recordBytes)
    }

    /// A received message the contract refused.
    public func countRejection(_ kind: MessageRejectionKind, route: Int, payloadBytes: Int) {
        self.countReceived(route: route, payloadBytes: payloadBytes)
        Self.add(self.rejected)
        Self.add(self.rejectedByKind[kind.rawValue])
    }

    /// A message read but refused because the daemon stopped before it fit a ring.
    public func countRefusedAtShutdown(route: Int, payloadBytes: Int) {
        self.countReceived(route: route, payloadBytes: payloadBytes)
        Self.add(self.refusedAtShutdown)
    }

    private func countReceived(route: Int, payloadBytes: Int) {
        let block = self.loops[route]
        block.bump(LoopSlot.received.rawValue)
        block.bump(LoopSlot.receivedBytes.rawValue, by: payloadBytes)
    }

    // MARK: producer thread only

    @inline(__always)
    public func countProduced(_ count: Int) {
        self.producer.bump(ProducerSlot.produced.rawValue, by: count)
    }

    @inline(__always)
    public func countDelivered() {
        self.producer.bump(ProducerSlot.delivered.rawValue)
    }

    public func countFailed(_ cause: DeliveryFailureCause) {
        self.producer.bump(ProducerSlot.failed.rawValue)
        self.producer.bump(ProducerSlot.allCases.count + cause.rawValue)
    }

    // MARK: readers

    /// Rejections by kind, for metrics; `shuttingDown` is `refusedAtShutdown`.
    public func rejectionsByKind() -> [(kind: MessageRejectionKind, count: Int)] {
        MessageRejectionKind.allCases.map { kind in
            (
                kind,
                kind == .shuttingDown
                    ? self.refusedAtShutdown.load(ordering: .relaxed)
                    : self.rejectedByKind[kind.rawValue].load(ordering: .relaxed)
            )
        }
    }

    /// Failures by cause, for metrics.
    public func failuresByCause() -> [(cause: DeliveryFailureCause, count: Int)] {
        DeliveryFailureCause.allCases.map { ($0, self.producer.load(ProducerSlot.allCases.count + $0.rawValue)) }
    }

    private func loopTotal(_ slot: LoopSlot) -> Int {
        self.loops.reduce(0) { $0 + $1.load(slot.rawValue) }
    }

    public struct Snapshot: Sendable, Equatable {
        public var received, rejected, accepted, produced, delivered, failed, acceptedBytes, receivedBytes,
            refusedAtShutdown, backpressurePauses: Int
    }

    /// Producer figures are read before the loops', so a snapshot never shows more delivered than accepted.
    public func snapshot() -> Snapshot {
        let produced = self.producer.load(ProducerSlot.produced.rawValue)
        let delivered = self.producer.load(ProducerSlot.delivered.rawValue)
        let failed = self.producer.load(ProducerSlot.failed.rawValue)
        return Snapshot(
            received: self.loopTotal(.received),
            rejected: self.rejected.load(ordering: .relaxed),
            accepted: self.loopTotal(.accepted),
            produced: produced,
            delivered: delivered,
            failed: failed,
            acceptedBytes: self.loopTotal(.acceptedBytes),
            receivedBytes: self.loopTotal(.receivedBytes),
            refusedAtShutdown: self.refusedAtShutdown.load(ordering: .relaxed),
            backpressurePauses: self.backpressurePauses.load(ordering: .relaxed)
        )
    }
}
