import Dispatch
import Ingest
import Synchronization

/// Keeps the latest librdkafka statistics. The JSON arrives on the producer thread (it serves
/// librdkafka's event queue); decoding it there would stall message production for as long as the
/// document is big (it lists every partition), so it is decoded on a background queue.
public final class KafkaStatisticsCollector: Sendable {
    private let latest = Mutex<(statistics: KafkaStatistics, receivedAt: UInt64)?>(nil)
    private let queue = DispatchQueue(label: "kafka-chat-producer.kafka-statistics")

    public init() {}

    /// Hands a statistics document over for decoding; returns at once.
    public func receive(json: String) {
        self.queue.async {
            guard let statistics = KafkaStatistics(json: json) else { return }
            let now = MonotonicClock.nanoseconds()
            self.latest.withLock { $0 = (statistics, now) }
        }
    }

    /// The latest statistics and how old they are, if any arrived.
    public func current() -> (statistics: KafkaStatistics, ageSeconds: Double)? {
        guard let latest = self.latest.withLock({ $0 }) else { return nil }
        return (latest.statistics, Double(MonotonicClock.nanoseconds() &- latest.receivedAt) / 1e9)
    }

    /// Tests: applies a decoded document as if it had just arrived.
    public func store(_ statistics: KafkaStatistics) {
        let now = MonotonicClock.nanoseconds()
        self.latest.withLock { $0 = (statistics, now) }
    }
}
