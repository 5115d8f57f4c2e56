import Kafka

/// Counts what really reached Kafka, independently of the daemon: the sum over the target topics of the
/// partitions' high − low watermarks, before the run and then until it has grown by what was sent.
final class DeliveryCounter {
    private let reader: TopicReader
    private let topics: [String]
    private var baseline: Int64 = 0

    init(bootstrapServers: String, topics: [String]) throws {
        self.reader = try TopicReader(bootstrapServers: bootstrapServers)
        self.topics = topics
    }

    /// Records in the target topics now; a topic that does not exist yet counts 0.
    func total() throws -> Int64 {
        var total: Int64 = 0
        for topic in self.topics { total += try self.reader.recordCount(of: topic, timeoutMilliseconds: 5000) }
        return total
    }

    func takeBaseline() throws {
        self.baseline = try self.total()
    }

    /// Records added since the baseline; nil when the cluster did not answer.
    func delivered() -> Int64? {
        (try? self.total()).map { $0 - self.baseline }
    }
}
