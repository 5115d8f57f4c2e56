import Kafka

/// The outcome of one ack-mode message, as the gateway sees it: which connection and message (the ticket)
/// and where it landed, or why it did not. Ingest's own type, so the gateway never imports `Kafka`.
public struct DeliveryResult: Sendable {
    public let ticket: MessageTicket
    public let partition: Int32
    /// The offset in the partition; -1 when unknown (failures).
    public let offset: Int64
    /// nil when the message is durably stored per `acks`.
    public let failure: DeliveryFailure?

    public init(ticket: MessageTicket, partition: Int32, offset: Int64, failure: DeliveryFailure?) {
        self.ticket = ticket
        self.partition = partition
        self.offset = offset
        self.failure = failure
    }

    init(_ report: DeliveryReport) {
        self.init(
            ticket: MessageTicket(rawValue: report.opaque),
            partition: report.partition,
            offset: report.offset,
            failure: report.error.map(DeliveryFailure.init)
        )
    }
}

/// Why a message was not delivered, in the words a nack carries. Keeps librdkafka's error code and
/// builds its texts only when a nack is written.
public struct DeliveryFailure: Sendable, Equatable {
    private let error: KafkaError

    init(_ error: KafkaError) {
        self.error = error
    }

    /// A failure from librdkafka's raw `rd_kafka_resp_err_t` value (tests and tools).
    public init(code: Int32) {
        self.error = KafkaError(code: code)
    }

    /// librdkafka's symbolic name without the leading underscore, e.g. `MSG_TIMED_OUT`.
    public var name: String { self.error.name }
    /// librdkafka's description of the error.
    public var message: String { self.error.message }
    /// Whether resending the same message later may succeed (at-least-once: a resend can duplicate).
    public var isRetriable: Bool { self.error.isRetriable }
}
