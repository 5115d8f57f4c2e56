import CRdKafka

/// A librdkafka topic handle (`rd_kafka_topic_t`), created once per topic and reused for every message.
///
/// It keeps its producer alive, because librdkafka requires topic handles to be destroyed before the client.
public final class KafkaTopicHandle: @unchecked Sendable {
    // @unchecked Sendable: every stored property is a `let`; `rd_kafka_topic_t` handles may be used from
    // any thread (librdkafka's contract), only `OpaquePointer` itself is not marked Sendable.
    public let name: String
    let pointer: OpaquePointer
    let producer: KafkaProducer

    init(name: String, pointer: OpaquePointer, producer: KafkaProducer) {
        self.name = name
        self.pointer = pointer
        self.producer = producer
    }

    deinit {
        rd_kafka_topic_destroy(self.pointer)
    }
}
