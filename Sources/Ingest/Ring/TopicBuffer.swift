import Atomics
import ChatContract
import Kafka
import NIOConcurrencyHelpers

/// Everything the daemon keeps per topic: the lock-free ring, the librdkafka topic handle, whether the
/// producer thread already knows the ring has work, and the connections waiting for space.
///
/// Connections resolve their `TopicBuffer` once, at upgrade, and then push without any lookup or lock.
public final class TopicBuffer: @unchecked Sendable {
    // @unchecked Sendable: `ring`, `scheduled`, `waiters` and `hasWaiters` are thread-safe by construction;
    // `nextReady` is touched only while `scheduled` is held (see `ReadyTopicQueue`); `attachedConnections`
    // and `idleSince` only under `RingRegistry`'s lock.
    public let topic: TopicName
    public let ring: TopicRing
    let kafkaTopic: KafkaTopicHandle
    /// The record key when the policy is `chat`: the chat name's bytes.
    let chatKey: [UInt8]
    private unowned(unsafe) let scheduler: any ProducerScheduler

    /// True while the ring is in the producer's ready queue or being drained; set by the pusher that finds it
    /// false (the empty → non-empty edge), cleared by the producer thread when it leaves the ring empty.
    let scheduled = ManagedAtomic<Bool>(false)
    /// Intrusive link for `ReadyTopicQueue`; owned by whoever holds the `scheduled` flag.
    var nextReady: Unmanaged<TopicBuffer>?

    private let waiters = NIOLockedValueBox<[any RingSpaceWaiter]>([])
    private let hasWaiters = ManagedAtomic<Bool>(false)

    // Bookkeeping of `RingRegistry`, only touched under its lock.
    var attachedConnections = 0
    var idleSince: ContinuousClock.Instant

    init(topic: TopicName, capacityBytes: Int, kafkaTopic: KafkaTopicHandle, scheduler: any ProducerScheduler) {
        self.topic = topic
        self.ring = TopicRing(capacityBytes: capacityBytes)
        self.kafkaTopic = kafkaTopic
        self.chatKey = Array(topic.value.utf8.dropFirst(TopicName.chatPrefix.utf8.count))
        self.scheduler = scheduler
        self.idleSince = .now
    }

    /// Writes one record into the ring and, on the empty → non-empty edge, hands the ring to the producer
    /// thread. A few atomic operations and one fence; no lock, no allocation.
    @inline(__always)
    public func push(
        payloadCount: Int,
        ticket: MessageTicket,
        tag: UInt32,
        fill: (UnsafeMutableRawBufferPointer) -> Void
    ) -> RingPushResult {
        let result = self.ring.push(payloadCount: payloadCount, opaque: ticket.rawValue, tag: tag, fill: fill)
        if result == .pushed {
            // Pairs with the fence in `ProducerThread.finishDrain`: either the producer sees our record
            // after clearing `scheduled`, or we see `scheduled == false` here and schedule the ring.
            atomicMemoryFence(ordering: .sequentiallyConsistent)
            if !self.scheduled.load(ordering: .relaxed),
                self.scheduled.compareExchange(expected: false, desired: true, ordering: .acquiringAndReleasing)
                    .exchanged
            {
                self.scheduler.schedule(self)
            }
        }
        return result
    }

    /// Registers a paused connection. The caller must try its push again afterwards: space may have been
    /// freed between its failed push and this registration.
    public func waitForSpace(_ waiter: any RingSpaceWaiter) {
        self.waiters.withLockedValue { $0.append(waiter) }
        self.hasWaiters.store(true, ordering: .sequentiallyConsistent)
        atomicMemoryFence(ordering: .sequentiallyConsistent)
    }

    /// Producer thread, after it freed space: wakes every waiter once.
    func wakeWaiters() {
        atomicMemoryFence(ordering: .sequentiallyConsistent)
        guard self.hasWaiters.load(ordering: .relaxed) else { return }
        let woken: [any RingSpaceWaiter] = self.waiters.withLockedValue { list in
            self.hasWaiters.store(false, ordering: .relaxed)
            defer { list.removeAll(keepingCapacity: true) }
            return list
        }
        for waiter in woken { waiter.ringHasSpace() }
    }

    /// Forgets a waiter that went away (connection closed while paused).
    public func removeWaiter(_ waiter: any RingSpaceWaiter) {
        self.waiters.withLockedValue { list in list.removeAll { $0 === waiter } }
    }

    /// The Kafka record key for a record of this ring under `policy`, passed to `body` without copying
    /// unless the sender name contains escapes.
    @inline(__always)
    func withKey<R>(
        for record: RingRecord,
        policy: RecordKeyPolicy,
        _ body: (UnsafeRawBufferPointer?) -> R
    ) -> R {
        switch policy {
        case .none:
            return body(nil)
        case .chat:
            return self.chatKey.withUnsafeBytes { body($0) }
        case .sender:
            // The canonical value starts with `{"sender":` (10 bytes) followed by the sender token.
            let tokenLength = Int(record.tag & 0x7FFF_FFFF)
            let token = UnsafeRawBufferPointer(rebasing: record.payload[10..<(10 + tokenLength)])
            if record.tag & 0x8000_0000 != 0 {
                let decoded = JSONStringDecoding.decodedContent(ofToken: token)
                return decoded.withUnsafeBytes { body($0) }
            }
            return body(UnsafeRawBufferPointer(rebasing: token[1..<(tokenLength - 1)]))
        }
    }
}
