import Foundation

/// The figures we export from librdkafka's statistics JSON (`statistics.interval.ms`), decoded once per
/// interval off the hot threads. Window averages and p99 are librdkafka's own, over its last interval;
/// durations arrive in microseconds.
public struct KafkaStatistics: Sendable, Equatable {
    public struct Broker: Sendable, Equatable {
        /// The Kafka node id; bootstrap placeholders (id -1) are dropped.
        public var nodeID: Int
        /// librdkafka's connection state is `UP`.
        public var isUp: Bool
        public var rttAverageSeconds: Double
        public var rttP99Seconds: Double
        public var internalLatencyAverageSeconds: Double
        public var internalLatencyP99Seconds: Double
    }

    /// Messages and bytes waiting in librdkafka (queued or in flight), and their limits.
    public var queueMessages: Int
    public var queueBytes: Int
    public var queueMaxMessages: Int
    public var queueMaxBytes: Int
    public var brokers: [Broker]
    /// Since the client started, over all brokers.
    public var transmitErrors: Int
    public var transmitRetries: Int
    /// Averages over every topic's batches in the last window (0 when nothing was sent).
    public var batchSizeAverageBytes: Double
    public var batchMessagesAverage: Double

    public var brokersUp: Int { self.brokers.filter(\.isUp).count }

    /// Decodes librdkafka's statistics document; nil when it is not one.
    public init?(json: String) {
        guard let document = try? JSONDecoder().decode(Document.self, from: Data(json.utf8)) else { return nil }
        self.queueMessages = document.messageCount ?? 0
        self.queueBytes = document.messageBytes ?? 0
        self.queueMaxMessages = document.maxMessages ?? 0
        self.queueMaxBytes = document.maxBytes ?? 0
        let brokers = (document.brokers ?? [:]).values
        self.transmitErrors = brokers.reduce(0) { $0 + ($1.txerrs ?? 0) }
        self.transmitRetries = brokers.reduce(0) { $0 + ($1.txretries ?? 0) }
        self.brokers = brokers.compactMap { broker in
            guard let nodeID = broker.nodeid, nodeID >= 0 else { return nil }
            return Broker(
                nodeID: nodeID,
                isUp: broker.state == "UP",
                rttAverageSeconds: Double(broker.rtt?.avg ?? 0) / 1e6,
                rttP99Seconds: Double(broker.rtt?.p99 ?? 0) / 1e6,
                internalLatencyAverageSeconds: Double(broker.internalLatency?.avg ?? 0) / 1e6,
                internalLatencyP99Seconds: Double(broker.internalLatency?.p99 ?? 0) / 1e6
            )
        }.sorted { $0.nodeID < $1.nodeID }
        let topics = (document.topics ?? [:]).values
        self.batchSizeAverageBytes = Self.weightedAverage(topics.map(\.batchsize))
        self.batchMessagesAverage = Self.weightedAverage(topics.map(\.batchcnt))
    }

    public init(
        queueMessages: Int = 0,
        queueBytes: Int = 0,
        queueMaxMessages: Int = 0,
        queueMaxBytes: Int = 0,
        brokers: [Broker] = [],
        transmitErrors: Int = 0,
        transmitRetries: Int = 0,
        batchSizeAverageBytes: Double = 0,
        batchMessagesAverage: Double = 0
    ) {
        self.queueMessages = queueMessages
        self.queueBytes = queueBytes
        self.queueMaxMessages = queueMaxMessages
        self.queueMaxBytes = queueMaxBytes
        self.brokers = brokers
        self.transmitErrors = transmitErrors
        self.transmitRetries = transmitRetries
        self.batchSizeAverageBytes = batchSizeAverageBytes
        self.batchMessagesAverage = batchMessagesAverage
    }

    /// Each topic's window average weighted by its number of batches.
    private static func weightedAverage(_ windows: [Document.Window?]) -> Double {
        var total = 0.0
        var count = 0
        for case let window? in windows {
            guard let batches = window.cnt, batches > 0 else { continue }
            total += Double(window.avg ?? 0) * Double(batches)
            count += batches
        }
        return count == 0 ? 0 : total / Double(count)
    }

    // librdkafka's field names (STATISTICS.md); only what we read.
    private struct Document: Decodable {
        struct Window: Decodable {
            var avg: Int?
            var p99: Int?
            var cnt: Int?
        }
        struct BrokerDocument: Decodable {
            var nodeid: Int?
            var state: String?
            var txerrs: Int?
            var txretries: Int?
            var rtt: Window?
            var internalLatency: Window?

            enum CodingKeys: String, CodingKey {
                case nodeid, state, txerrs, txretries, rtt
                case internalLatency = "int_latency"
            }
        }
        struct TopicDocument: Decodable {
            var batchsize: Window?
            var batchcnt: Window?
        }
        var messageCount: Int?
        var messageBytes: Int?
        var maxMessages: Int?
        var maxBytes: Int?
        var brokers: [String: BrokerDocument]?
        var topics: [String: TopicDocument]?

        enum CodingKeys: String, CodingKey {
            case messageCount = "msg_cnt"
            case messageBytes = "msg_size"
            case maxMessages = "msg_max"
            case maxBytes = "msg_size_max"
            case brokers, topics
        }
    }
}
