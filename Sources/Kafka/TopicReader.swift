import CRdKafka

/// One record read back from Kafka.
public struct KafkaRecord: Sendable, Equatable {
    public let partition: Int32
    public let offset: Int64
    public let key: [UInt8]?
    public let value: [UInt8]
    /// The record's headers in their order (a header may have no value).
    public let headers: [KafkaHeader]

    public init(partition: Int32, offset: Int64, key: [UInt8]?, value: [UInt8], headers: [KafkaHeader] = []) {
        self.partition = partition
        self.offset = offset
        self.key = key
        self.value = value
        self.headers = headers
    }

    /// The value of the first header called `name`, if any.
    public func header(_ name: String) -> [UInt8]? {
        self.headers.first { $0.name == name }?.value
    }
}

/// One Kafka record header.
public struct KafkaHeader: Sendable, Equatable {
    public let name: String
    public let value: [UInt8]?

    public init(name: String, value: [UInt8]?) {
        self.name = name
        self.value = value
    }
}

/// Reads topics back from the cluster, independently of the producer: tests compare what landed with what
/// was sent, and the load generator counts what really reached Kafka.
public final class TopicReader: @unchecked Sendable {
    // @unchecked Sendable: the only state is the `rd_kafka_t` consumer handle (a `let`), which librdkafka
    // allows to be used from any thread.
    private let handle: OpaquePointer

    public init(bootstrapServers: String, extraProperties: [(String, String)] = []) throws {
        var configuration = KafkaConfiguration([
            ("bootstrap.servers", bootstrapServers),
            ("group.id", "kafka-chat-producer-reader"),
            ("enable.auto.commit", "false"),
            ("enable.partition.eof", "false"),
            ("log_level", "3"),
        ])
        for (name, value) in extraProperties { configuration.set(name, value) }
        let conf = try configuration.makeConf()
        var errstr = [CChar](repeating: 0, count: 512)
        guard let handle = rd_kafka_new(RD_KAFKA_CONSUMER, conf, &errstr, errstr.count) else {
            rd_kafka_conf_destroy(conf)
            throw KafkaClientError(message: String(errorBuffer: errstr))
        }
        self.handle = handle
        rd_kafka_poll_set_consumer(handle)
    }

    deinit {
        rd_kafka_consumer_close(self.handle)
        rd_kafka_destroy(self.handle)
    }

    /// Partition ids of `topic`, from cluster metadata (empty when the topic does not exist).
    public func partitions(of topic: String, timeoutMilliseconds: Int32 = 5000) throws -> [Int32] {
        guard let rkt = rd_kafka_topic_new(self.handle, topic, nil) else { throw KafkaError(rd_kafka_last_error()) }
        defer { rd_kafka_topic_destroy(rkt) }
        var metadata: UnsafePointer<rd_kafka_metadata>?
        let err = rd_kafka_metadata(self.handle, 0, rkt, &metadata, timeoutMilliseconds)
        guard err == RD_KAFKA_RESP_ERR_NO_ERROR, let metadata else { throw KafkaError(err) }
        defer { rd_kafka_metadata_destroy(metadata) }
        guard metadata.pointee.topic_cnt > 0 else { return [] }
        let topicMetadata = metadata.pointee.topics[0]
        if topicMetadata.err != RD_KAFKA_RESP_ERR_NO_ERROR { return [] }
        return (0..<Int(topicMetadata.partition_cnt)).map { topicMetadata.partitions[$0].id }
    }

    /// How many records were ever appended to `topic`: the sum of its partitions' high watermarks.
    /// (Not high − low: retention — the mock cluster keeps only a few MiB per partition — moves the low
    /// watermark, and a count of what is still held would stop growing while messages keep landing.)
    public func recordCount(of topic: String, timeoutMilliseconds: Int32 = 5000) throws -> Int64 {
        var total: Int64 = 0
        for partition in try self.partitions(of: topic, timeoutMilliseconds: timeoutMilliseconds) {
            var low: Int64 = 0
            var high: Int64 = 0
            let err = rd_kafka_query_watermark_offsets(self.handle, topic, partition, &low, &high, timeoutMilliseconds)
            if err != RD_KAFKA_RESP_ERR_NO_ERROR { throw KafkaError(err) }
            total += high
        }
        return total
    }

    /// Reads every partition of `topic` from the beginning until `count` records arrived or `timeoutSeconds`
    /// passed; returns what it read (fewer than `count` on timeout).
    public func readRecords(of topic: String, count: Int, timeoutSeconds: Double) throws -> [KafkaRecord] {
        let partitions = try self.partitions(of: topic)
        guard !partitions.isEmpty else { return [] }
        let list = rd_kafka_topic_partition_list_new(Int32(partitions.count))!
        defer { rd_kafka_topic_partition_list_destroy(list) }
        for partition in partitions {
            let entry = rd_kafka_topic_partition_list_add(list, topic, partition)!
            entry.pointee.offset = Int64(RD_KAFKA_OFFSET_BEGINNING)
        }
        var err = rd_kafka_assign(self.handle, list)
        guard err == RD_KAFKA_RESP_ERR_NO_ERROR else { throw KafkaError(err) }
        defer { _ = rd_kafka_assign(self.handle, nil) }

        var records: [KafkaRecord] = []
        records.reserveCapacity(count)
        let deadline = ContinuousClock.now + .milliseconds(Int(timeoutSeconds * 1000))
        while records.count < count, ContinuousClock.now < deadline {
            guard let message = rd_kafka_consumer_poll(self.handle, 100) else { continue }
            defer { rd_kafka_message_destroy(message) }
            err = message.pointee.err
            if err != RD_KAFKA_RESP_ERR_NO_ERROR { continue }
            let value =
                message.pointee.payload.map {
                    Array(UnsafeRawBufferPointer(start: $0, count: message.pointee.len))
                } ?? []
            let key = message.pointee.key.map {
                Array(UnsafeRawBufferPointer(start: $0, count: message.pointee.key_len))
            }
            records.append(
                KafkaRecord(
                    partition: message.pointee.partition,
                    offset: message.pointee.offset,
                    key: key,
                    value: value,
                    headers: Self.headers(of: message)
                )
            )
        }
        return records
    }

    private static func headers(of message: UnsafeMutablePointer<rd_kafka_message_t>) -> [KafkaHeader] {
        var list: OpaquePointer?
        guard rd_kafka_message_headers(message, &list) == RD_KAFKA_RESP_ERR_NO_ERROR, let list else { return [] }
        var headers: [KafkaHeader] = []
        var index = 0
        var name: UnsafePointer<CChar>?
        var value: UnsafeRawPointer?
        var size = 0
        while rd_kafka_header_get_all(list, index, &name, &value, &size) == RD_KAFKA_RESP_ERR_NO_ERROR {
            headers.append(
                KafkaHeader(
                    name: name.map { String(cString: $0) } ?? "",
                    value: value.map { Array(UnsafeRawBufferPointer(start: $0, count: size)) }
                )
            )
            index += 1
        }
        return headers
    }
}
