/// The outcome of one produced message, as reported by librdkafka once the broker answered (or gave up).
public struct DeliveryReport: Sendable {
    /// The value passed to `produce` as the message opaque.
    public let opaque: UInt64
    public let partition: Int32
    /// The offset in the partition; -1 when unknown (failures).
    public let offset: Int64
    /// nil when the message is durably stored per `acks`.
    public let error: KafkaError?
    /// Size of the record value, for byte counters.
    public let payloadBytes: Int
    /// librdkafka's produce → report time (`rd_kafka_message_latency`) of the oldest message of the
    /// produce request this one was acknowledged with; -1 when unknown (never reached librdkafka).
    public let latencyMicroseconds: Int64

    public init(
        opaque: UInt64,
        partition: Int32,
        offset: Int64,
        error: KafkaError?,
        payloadBytes: Int,
        latencyMicroseconds: Int64 = -1
    ) {
        self.opaque = opaque
        self.partition = partition
        self.offset = offset
        self.error = error
        self.payloadBytes = payloadBytes
        self.latencyMicroseconds = latencyMicroseconds
    }
}
