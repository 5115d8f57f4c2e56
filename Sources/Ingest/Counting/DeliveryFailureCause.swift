import Kafka

/// librdkafka's many error codes folded into the few an operator acts on differently: the `error` label
/// of `kcp_messages_failed_total` (bounded, whatever the broker answers).
public enum DeliveryFailureCause: Int, CaseIterable, Sendable {
    /// Not delivered within `message.timeout.ms` (broker unreachable or too slow).
    case timedOut
    /// Purged from librdkafka when the shutdown drain deadline passed.
    case purged
    /// Larger than the broker or `message.max.bytes` allows.
    case tooLarge
    /// The topic does not exist and could not be created.
    case unknownTopic
    /// The broker refused us (ACLs).
    case notAuthorized
    case other

    public init(_ error: KafkaError) {
        switch error {
        case .messageTimedOut, .timedOut: self = .timedOut
        case .purgedFromQueue, .purgedInFlight: self = .purged
        case .messageTooLarge, .invalidMessageSize: self = .tooLarge
        case .unknownTopicOrPartition, .localUnknownTopic, .localUnknownPartition: self = .unknownTopic
        case .topicAuthorizationFailed, .clusterAuthorizationFailed: self = .notAuthorized
        default: self = .other
        }
    }

    /// The label value.
    public var label: String {
        switch self {
        case .timedOut: "timed_out"
        case .purged: "purged"
        case .tooLarge: "too_large"
        case .unknownTopic: "unknown_topic"
        case .notAuthorized: "not_authorized"
        case .other: "other"
        }
    }
}
