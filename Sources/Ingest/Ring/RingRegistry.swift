import Atomics
import ChatContract
import Kafka
import NIOConcurrencyHelpers

/// Finds or creates the `TopicBuffer` of a topic, enforces the global byte budget and reclaims idle rings.
///
/// The budget is charged with each ring's whole capacity when the ring is created, so the memory all rings
/// can ever touch is bounded by the budget (a per-message budget counter would not bound that: a ring's
/// pages stay resident once written). Rings with no connection that stayed empty for `idleReclaimAfter`
/// are dropped, so millions of distinct chats over time do not leak. The lock is taken only when a
/// connection attaches or detaches and by the producer thread's periodic sweep, never per message.
public final class RingRegistry: @unchecked Sendable {
    // @unchecked Sendable: `state` is behind its lock and the rest are `let`s; `scheduler` is
    // `unowned(unsafe)` (the producer thread owns this registry and outlives it), which Sendable checking cannot see.
    public struct Configuration: Sendable {
        public var ringCapacityBytes: Int
        public var budgetBytes: Int
        public var idleReclaimAfter: Duration
        /// Most topics with a ring at once (`topics.max_topics`); 0 = only the budget limits them. Each
        /// topic also costs librdkafka a topic handle and metadata, whatever its ring size.
        public var maxTopics: Int

        public init(ringCapacityBytes: Int, budgetBytes: Int, idleReclaimAfter: Duration, maxTopics: Int = 0) {
            self.ringCapacityBytes = ringCapacityBytes
            self.budgetBytes = budgetBytes
            self.idleReclaimAfter = idleReclaimAfter
            self.maxTopics = maxTopics
        }
    }

    private struct State {
        var buffers: [TopicName: TopicBuffer] = [:]
        var reservedBytes = 0
        var reclaimed = 0
    }

    /// As at start-up; `maxTopics` may change since (`setMaxTopics`).
    public let configuration: Configuration
    private let maxTopics: ManagedAtomic<Int>
    private let state = NIOLockedValueBox(State())
    private let makeTopicHandle: @Sendable (String) throws -> KafkaTopicHandle
    private unowned(unsafe) let scheduler: any ProducerScheduler

    init(
        configuration: Configuration,
        scheduler: any ProducerScheduler,
        makeTopicHandle: @escaping @Sendable (String) throws -> KafkaTopicHandle
    ) {
        self.configuration = configuration
        self.maxTopics = ManagedAtomic(configuration.maxTopics)
        self.scheduler = scheduler
        self.makeTopicHandle = makeTopicHandle
    }

    /// A reload's `topics.max_topics`: new topics are refused beyond it; rings that already exist stay.
    public func setMaxTopics(_ limit: Int) {
        self.maxTopics.store(limit, ordering: .relaxed)
    }

    /// Attaches one connection to `topic`'s buffer, creating it if needed.
    public func attach(to topic: TopicName) throws(RingRegistryError) -> TopicBuffer {
        let capacity = self.configuration.ringCapacityBytes
        let result: Result<TopicBuffer, RingRegistryError> = self.state.withLockedValue { state in
            if let buffer = state.buffers[topic] {
                buffer.attachedConnections += 1
                return .success(buffer)
            }
            let maxTopics = self.maxTopics.load(ordering: .relaxed)
            if state.reservedBytes + capacity > self.configuration.budgetBytes
                || (maxTopics > 0 && state.buffers.count >= maxTopics)
            {
                // Make room from rings nobody uses before refusing.
                _ = Self.reclaim(&state, olderThan: nil)
            }
            guard maxTopics == 0 || state.buffers.count < maxTopics else {
                return .failure(.tooManyTopics(limit: maxTopics))
            }
            guard state.reservedBytes + capacity <= self.configuration.budgetBytes else {
                return .failure(
                    .budgetExhausted(activeTopics: state.buffers.count, budgetBytes: self.configuration.budgetBytes)
                )
            }
            let handle: KafkaTopicHandle
            do {
                handle = try self.makeTopicHandle(topic.value)
            } catch {
                return .failure(.kafka("\(error)"))
            }
            let buffer = TopicBuffer(
                topic: topic,
                capacityBytes: capacity,
                kafkaTopic: handle,
                scheduler: self.scheduler
            )
            buffer.attachedConnections = 1
            state.buffers[topic] = buffer
            state.reservedBytes += capacity
            return .success(buffer)
        }
        return try result.get()
    }

    /// The connection is gone; the ring becomes reclaimable once empty and idle.
    public func detach(_ buffer: TopicBuffer) {
        self.state.withLockedValue { _ in
            buffer.attachedConnections -= 1
            if buffer.attachedConnections == 0 { buffer.idleSince = .now }
        }
    }

    /// Drops rings with no connection that have been empty and idle long enough. Returns how many.
    @discardableResult
    public func reclaimIdle() -> Int {
        let cutoff = ContinuousClock.now - self.configuration.idleReclaimAfter
        return self.state.withLockedValue { Self.reclaim(&$0, olderThan: cutoff) }
    }

    private static func reclaim(_ state: inout State, olderThan cutoff: ContinuousClock.Instant?) -> Int {
        let idle = state.buffers.values.filter { buffer in
            buffer.attachedConnections == 0
                && buffer.ring.isEmpty
                && !buffer.scheduled.load(ordering: .sequentiallyConsistent)
                && cutoff.map { buffer.idleSince <= $0 } ?? true
        }
        for buffer in idle {
            state.buffers[buffer.topic] = nil
            state.reservedBytes -= buffer.ring.capacityBytes
        }
        state.reclaimed += idle.count
        return idle.count
    }

    public struct Usage: Sendable, Equatable {
        public var topics: Int
        public var reservedBytes: Int
        public var usedBytes: Int
        public var reclaimedTopics: Int
    }

    /// Figures for health, logs and metrics.
    public func usage() -> Usage {
        self.state.withLockedValue { state in
            Usage(
                topics: state.buffers.count,
                reservedBytes: state.reservedBytes,
                usedBytes: state.buffers.values.reduce(0) { $0 + $1.ring.usedBytes },
                reclaimedTopics: state.reclaimed
            )
        }
    }

    func allBuffers() -> [TopicBuffer] {
        self.state.withLockedValue { Array($0.buffers.values) }
    }
}

public enum RingRegistryError: Error, Sendable, Equatable, CustomStringConvertible {
    /// Every byte of the buffer budget belongs to a ring in use.
    case budgetExhausted(activeTopics: Int, budgetBytes: Int)
    /// librdkafka refused the topic.
    case kafka(String)
    /// `maxTopics` topics already have a ring, none of them reclaimable.
    case tooManyTopics(limit: Int)

    public var description: String {
        switch self {
        case .budgetExhausted(let topics, let budget):
            return "buffer budget of \(budget) bytes is taken by \(topics) active chats; try again later"
        case .kafka(let message):
            return "Kafka refused the topic: \(message)"
        case .tooManyTopics(let limit):
            return "the server already serves \(limit) chats, the most it may at once; try again later"
        }
    }
}
