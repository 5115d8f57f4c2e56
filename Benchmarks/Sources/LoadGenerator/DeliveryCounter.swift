import Kafka

/// Counts what really reached Kafka, independently of the daemon: per target topic, the growth of
/// `TopicReader.recordCount(of:)` (the sum of its partitions' high watermarks) since the run began.
///
/// One count costs a metadata request and a watermark query per partition, per topic (tens of ms for
/// 100 topics, served by the broker that the daemon also uses). So when the generator knows how many
/// records each topic should receive, a topic that has them all is not asked again: the last queries
/// only cover the stragglers, which keeps both the CPU cost and the error on "all delivered" small.
///
/// High watermarks keep growing when the broker deletes old records (librdkafka's mock cluster — the
/// daemon's `--embedded-broker` — keeps at most 5 MiB or 100 000 batches per partition), which is why
/// the count does not use high − low. A count that shrinks or stalls anyway is still detected and
/// reported (`trimmed`), as a guard against brokers that reset their logs.
final class DeliveryCounter {
    private let reader: TopicReader
    let topics: [String]
    private var baseline: [Int64]
    private var latest: [Int64]
    private var complete: [Bool]
    /// A topic's count went down at some point: the broker deleted records, `delivered` undercounts.
    private(set) var trimmed = false
    /// Duration of the latest query (over the topics still incomplete), in nanoseconds.
    private(set) var lastQueryNanoseconds: UInt64 = 0
    /// Duration of a query over every topic (the baseline).
    private(set) var fullQueryNanoseconds: UInt64 = 0
    /// When the total last changed.
    private(set) var lastProgress: UInt64 = MonotonicClock.now()
    private var lastTotal: Int64 = 0

    init(bootstrapServers: String, topics: [String]) throws {
        self.reader = try TopicReader(bootstrapServers: bootstrapServers)
        self.topics = topics
        self.baseline = [Int64](repeating: 0, count: topics.count)
        self.latest = self.baseline
        self.complete = [Bool](repeating: false, count: topics.count)
    }

    func takeBaseline() throws {
        let start = MonotonicClock.now()
        for (index, topic) in self.topics.enumerated() {
            self.baseline[index] = try self.reader.recordCount(of: topic, timeoutMilliseconds: 5000)
        }
        self.latest = self.baseline
        self.fullQueryNanoseconds = MonotonicClock.now() - start
    }

    /// Records added since the baseline, over all topics; nil when the cluster did not answer.
    /// `expected[i]`, when given, is what topic i should receive: topics that reached it are not queried again.
    func delivered(expected: [Int]? = nil) -> Int64? {
        let start = MonotonicClock.now()
        defer { self.lastQueryNanoseconds = MonotonicClock.now() - start }
        for (index, topic) in self.topics.enumerated() where !self.complete[index] {
            guard let count = try? self.reader.recordCount(of: topic, timeoutMilliseconds: 5000) else { return nil }
            if count < self.latest[index] { self.trimmed = true }
            self.latest[index] = count
            if let expected, count - self.baseline[index] >= Int64(expected[index]) { self.complete[index] = true }
        }
        var total: Int64 = 0
        for index in self.topics.indices { total += self.latest[index] - self.baseline[index] }
        if total != self.lastTotal {
            self.lastTotal = total
            self.lastProgress = MonotonicClock.now()
        }
        return total
    }

    /// For runs where the broker already confirmed every record (acks, delivery reports): a count that
    /// stays below the confirmed total without moving for a second means the broker dropped records
    /// (the mock cluster's trimming), not that they are still on their way. Marks the count as trimmed.
    func confirmedButNotGrowing(confirmed: Int64, delivered: Int64) -> Bool {
        guard delivered < confirmed, MonotonicClock.now() - self.lastProgress > 1_000_000_000 else { return false }
        self.trimmed = true
        return true
    }

    /// Pause between two queries: at least 2 ms and twice the last query, so querying takes at most a third
    /// of the drain and little CPU from the daemon and broker it measures.
    var pauseMicroseconds: UInt32 {
        UInt32(max(2_000, min(50_000, 2 * self.lastQueryNanoseconds / 1000)))
    }

    var trimmedWarning: String {
        "the topics' record count shrank or stayed below what the broker confirmed: the broker deleted old "
            + "records (librdkafka's mock cluster keeps ≤ 5 MiB per partition), so delivered undercounts; "
            + "use a fresh --embedded-broker per run or a real cluster"
    }
}
