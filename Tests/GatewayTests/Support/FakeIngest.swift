import ChatContract
import Kafka
import Logging

@testable import Ingest

/// A `MessageIngest` with real rings and no producer thread: nothing drains the rings but the test
/// (`TopicRing.drain`, then `TopicBuffer.wakeWaiters`, as the producer thread would after freeing space).
/// librdkafka is only there to give the rings their topic handles; it never connects to anything.
final class FakeIngest: MessageIngest, @unchecked Sendable {
    /// The producer thread's doorbell; nothing rings here.
    private final class NoScheduler: ProducerScheduler {
        func schedule(_ buffer: TopicBuffer) {}
    }

    let counters = IngestCounters()
    let registry: RingRegistry
    private let producer: KafkaProducer
    private let scheduler: NoScheduler

    init(ringCapacityBytes: Int) throws {
        let producer = try KafkaProducer(
            configuration: KafkaConfiguration([("bootstrap.servers", "127.0.0.1:1")]),
            logger: Logger(label: "gateway-tests")
        )
        let scheduler = NoScheduler()
        self.producer = producer
        self.scheduler = scheduler
        self.registry = RingRegistry(
            configuration: .init(
                ringCapacityBytes: ringCapacityBytes,
                budgetBytes: 1 << 24,
                idleReclaimAfter: .seconds(60)
            ),
            scheduler: scheduler,
            makeTopicHandle: { try producer.topic($0) }
        )
    }

    func attach(to topic: TopicName) throws(RingRegistryError) -> TopicBuffer {
        try self.registry.attach(to: topic)
    }

    func detach(_ buffer: TopicBuffer) {
        self.registry.detach(buffer)
    }

    func usage() -> RingRegistry.Usage {
        self.registry.usage()
    }

    func topicNames(withPrefix prefix: String, timeoutMilliseconds: Int32) -> Set<String>? {
        nil
    }

    func drain(deadline: ContinuousClock.Instant) async -> ProducerThread.DrainSummary {
        ProducerThread.DrainSummary(completedInTime: true, failedAtDeadline: 0)
    }
}
