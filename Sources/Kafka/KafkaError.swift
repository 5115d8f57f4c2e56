import CRdKafka

/// A librdkafka error code with its name and description, classified for clients.
public struct KafkaError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The raw `rd_kafka_resp_err_t` value.
    public let code: Int32

    public init(code: Int32) {
        self.code = code
    }

    init(_ err: rd_kafka_resp_err_t) {
        self.code = err.rawValue
    }

    var raw: rd_kafka_resp_err_t { rd_kafka_resp_err_t(rawValue: self.code) }

    /// librdkafka's symbolic name without the leading underscore, e.g. `MSG_TIMED_OUT`.
    public var name: String {
        let full = String(cString: rd_kafka_err2name(self.raw))
        return full.hasPrefix("_") ? String(full.dropFirst()) : full
    }

    /// Human-readable description from librdkafka.
    public var message: String { String(cString: rd_kafka_err2str(self.raw)) }

    public var description: String { "\(self.name): \(self.message)" }

    /// Whether resending the same message later may succeed. A client told "retriable" may resend, which
    /// can produce a duplicate when the first attempt in fact reached the broker (at-least-once).
    public var isRetriable: Bool {
        switch self.raw {
        case RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE,
            RD_KAFKA_RESP_ERR_INVALID_MSG,
            RD_KAFKA_RESP_ERR_INVALID_MSG_SIZE,
            RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED,
            RD_KAFKA_RESP_ERR_CLUSTER_AUTHORIZATION_FAILED,
            RD_KAFKA_RESP_ERR_TOPIC_EXCEPTION,
            RD_KAFKA_RESP_ERR_INVALID_RECORD,
            RD_KAFKA_RESP_ERR__INVALID_ARG,
            RD_KAFKA_RESP_ERR__FATAL:
            return false
        default:
            return true
        }
    }

    public static let queueFull = KafkaError(RD_KAFKA_RESP_ERR__QUEUE_FULL)
    public static let messageTimedOut = KafkaError(RD_KAFKA_RESP_ERR__MSG_TIMED_OUT)
    public static let purgedFromQueue = KafkaError(RD_KAFKA_RESP_ERR__PURGE_QUEUE)
    public static let purgedInFlight = KafkaError(RD_KAFKA_RESP_ERR__PURGE_INFLIGHT)
    public static let timedOut = KafkaError(RD_KAFKA_RESP_ERR__TIMED_OUT)
    public static let messageTooLarge = KafkaError(RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE)
    public static let invalidMessageSize = KafkaError(RD_KAFKA_RESP_ERR_INVALID_MSG_SIZE)
    public static let unknownTopicOrPartition = KafkaError(RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART)
    public static let localUnknownTopic = KafkaError(RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC)
    public static let localUnknownPartition = KafkaError(RD_KAFKA_RESP_ERR__UNKNOWN_PARTITION)
    public static let topicAuthorizationFailed = KafkaError(RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED)
    public static let clusterAuthorizationFailed = KafkaError(RD_KAFKA_RESP_ERR_CLUSTER_AUTHORIZATION_FAILED)
}
