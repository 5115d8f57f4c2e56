import CRdKafka
import Logging

/// The daemon's single librdkafka producer (`rd_kafka_t`).
///
/// It uses librdkafka's event API instead of callbacks: delivery reports, errors, logs and statistics all
/// arrive on the main queue, which the producer thread serves in batches when librdkafka writes to an fd
/// it sleeps on. No librdkafka thread ever calls into Swift.
public final class KafkaProducer: @unchecked Sendable {
    // @unchecked Sendable: `rd_kafka_t` is thread-safe (librdkafka's documented contract for a client
    // handle); `wakeValue` is written once in init; `onStatistics` is set before the producer thread starts
    // serving events and only read by that thread afterwards.
    let handle: OpaquePointer
    private let mainQueue: OpaquePointer
    private let logger: Logger
    /// An 8-byte value librdkafka writes to the notification fd (an eventfd needs exactly 8 bytes).
    private let wakeValue: UnsafeMutablePointer<UInt64>

    /// Statistics JSON (`statistics.interval.ms`), if anyone listens.
    public var onStatistics: (@Sendable (String) -> Void)?

    public init(configuration: KafkaConfiguration, logger: Logger) throws {
        var configuration = configuration
        // Logs travel through the main queue too, so they are emitted by our thread with our logger.
        configuration.set("log.queue", "true")
        let conf = try configuration.makeConf()
        rd_kafka_conf_set_events(
            conf,
            Int32(RD_KAFKA_EVENT_DR | RD_KAFKA_EVENT_ERROR | RD_KAFKA_EVENT_LOG | RD_KAFKA_EVENT_STATS)
        )
        var errstr = [CChar](repeating: 0, count: 512)
        guard let handle = rd_kafka_new(RD_KAFKA_PRODUCER, conf, &errstr, errstr.count) else {
            rd_kafka_conf_destroy(conf)
            throw KafkaClientError(message: String(errorBuffer: errstr))
        }
        self.handle = handle
        self.mainQueue = rd_kafka_queue_get_main(handle)
        rd_kafka_set_log_queue(handle, nil)
        self.logger = logger
        self.wakeValue = .allocate(capacity: 1)
        self.wakeValue.initialize(to: 1)
    }

    deinit {
        rd_kafka_queue_destroy(self.mainQueue)
        rd_kafka_destroy(self.handle)
        self.wakeValue.deallocate()
    }

    /// A handle for `name`; create once per topic and keep it.
    public func topic(_ name: String) throws -> KafkaTopicHandle {
        guard let pointer = rd_kafka_topic_new(self.handle, name, nil) else {
            throw KafkaError(rd_kafka_last_error())
        }
        return KafkaTopicHandle(name: name, pointer: pointer, producer: self)
    }

    /// Hands one message to librdkafka, which copies payload and key (`RD_KAFKA_MSG_F_COPY`), so the
    /// caller's memory is free again as soon as this returns. Returns nil when enqueued;
    /// `KafkaError.queueFull` is backpressure, not a failure.
    @inline(__always)
    public func produce(
        _ topic: KafkaTopicHandle,
        payload: UnsafeRawBufferPointer,
        key: UnsafeRawBufferPointer?,
        opaque: UInt64
    ) -> KafkaError? {
        let result = rd_kafka_produce(
            topic.pointer,
            RD_KAFKA_PARTITION_UA,
            RD_KAFKA_MSG_F_COPY,
            UnsafeMutableRawPointer(mutating: payload.baseAddress),
            payload.count,
            key?.baseAddress,
            key?.count ?? 0,
            UnsafeMutableRawPointer(bitPattern: UInt(opaque))
        )
        if result == 0 { return nil }
        return KafkaError(rd_kafka_last_error())
    }

    /// `produce` with one record header (`name` NUL-terminated); librdkafka copies it with the message.
    /// Costs a header list allocation inside librdkafka per message, so only `kafka.message_id_header` uses it.
    @inline(__always)
    public func produce(
        _ topic: KafkaTopicHandle,
        payload: UnsafeRawBufferPointer,
        key: UnsafeRawBufferPointer?,
        header name: UnsafePointer<CChar>,
        value: UnsafeRawBufferPointer,
        opaque: UInt64
    ) -> KafkaError? {
        let result = kcp_produce_with_header(
            self.handle,
            topic.pointer,
            payload.baseAddress,
            payload.count,
            key?.baseAddress,
            key?.count ?? 0,
            name,
            value.baseAddress,
            value.count,
            UnsafeMutableRawPointer(bitPattern: UInt(opaque))
        )
        if result == RD_KAFKA_RESP_ERR_NO_ERROR { return nil }
        return KafkaError(result)
    }

    /// librdkafka writes to `fd` whenever its main queue goes from empty to non-empty.
    public func notifyEvents(on fd: Int32) {
        rd_kafka_queue_io_event_enable(self.mainQueue, fd, self.wakeValue, MemoryLayout<UInt64>.size)
    }

    /// Serves queued events without blocking (or waiting up to `timeoutMilliseconds` for the first one).
    /// Delivery reports go to `onDelivery`; errors and logs to the logger. Returns the reports served.
    @discardableResult
    public func serveEvents(timeoutMilliseconds: Int32 = 0, onDelivery: (DeliveryReport) -> Void) -> Int {
        var delivered = 0
        var timeout = timeoutMilliseconds
        let batch = UnsafeMutablePointer<UnsafePointer<rd_kafka_message_t>?>.allocate(capacity: 1024)
        defer { batch.deallocate() }
        while let event = rd_kafka_queue_poll(self.mainQueue, timeout) {
            timeout = 0
            defer { rd_kafka_event_destroy(event) }
            switch rd_kafka_event_type(event) {
            case RD_KAFKA_EVENT_DR:
                // One report event holds one produce request's messages, acknowledged together. Their
                // latency is taken once, from the first (oldest) message: an upper bound for the rest,
                // without a clock read per message (rd_kafka_message_latency reads the clock).
                var latency: Int64?
                while true {
                    let count = rd_kafka_event_message_array(event, batch, 1024)
                    if count == 0 { break }
                    // (C array of `count` non-null message pointers; `latency` is set before the loop below.)
                    if latency == nil { latency = rd_kafka_message_latency(batch[0]!) }
                    for index in 0..<count {
                        let message = batch[index]!.pointee
                        let error: KafkaError? =
                            message.err == RD_KAFKA_RESP_ERR_NO_ERROR ? nil : KafkaError(message.err)
                        onDelivery(
                            DeliveryReport(
                                opaque: UInt64(UInt(bitPattern: message._private)),
                                partition: message.partition,
                                offset: message.offset,
                                error: error,
                                payloadBytes: message.len,
                                latencyMicroseconds: latency!
                            )
                        )
                    }
                    delivered += count
                }
            case RD_KAFKA_EVENT_ERROR:
                let error = KafkaError(rd_kafka_event_error(event))
                let text = String(cString: rd_kafka_event_error_string(event))
                if rd_kafka_event_error_is_fatal(event) != 0 {
                    self.logger.critical(
                        "fatal Kafka error",
                        metadata: ["error": "\(error.name)", "detail": "\(text)"]
                    )
                } else {
                    self.logger.warning("Kafka error", metadata: ["error": "\(error.name)", "detail": "\(text)"])
                }
            case RD_KAFKA_EVENT_LOG:
                var facility: UnsafePointer<CChar>?
                var text: UnsafePointer<CChar>?
                var level: Int32 = 0
                rd_kafka_event_log(event, &facility, &text, &level)
                let fac = facility.map { String(cString: $0) } ?? ""
                // A broker connection failure comes twice: as this `FAIL` log line and as an error event
                // (`TRANSPORT`, same text) logged above with its error name. One line per failure.
                if fac == "FAIL" { break }
                let message = text.map { String(cString: $0) } ?? ""
                self.logger.log(
                    level: Self.logLevel(syslog: level),
                    "librdkafka: \(message)",
                    metadata: ["facility": "\(fac)"]
                )
            case RD_KAFKA_EVENT_STATS:
                if let onStatistics = self.onStatistics, let json = rd_kafka_event_stats(event) {
                    onStatistics(String(cString: json))
                }
            default:
                break
            }
        }
        return delivered
    }

    /// Messages handed to librdkafka and not yet reported (queued, in flight, or reports not served).
    public var outstandingCount: Int { Int(rd_kafka_outq_len(self.handle)) }

    /// Fails every queued and in-flight message; their reports (`PURGE_QUEUE`/`PURGE_INFLIGHT`) follow as events.
    public func purgeAll() {
        _ = rd_kafka_purge(self.handle, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT)
    }

    /// Asks the cluster for metadata; true when a broker answered in time.
    public func fetchMetadata(timeoutMilliseconds: Int32) -> Bool {
        var metadata: UnsafePointer<rd_kafka_metadata>?
        let err = rd_kafka_metadata(self.handle, 0, nil, &metadata, timeoutMilliseconds)
        if let metadata { rd_kafka_metadata_destroy(metadata) }
        return err == RD_KAFKA_RESP_ERR_NO_ERROR
    }

    /// The names of the cluster's topics that start with `prefix`; nil when no broker answered in time.
    ///
    /// Asks for all topics rather than for one by name: a producer's metadata request for a named topic
    /// lets brokers with `auto.create.topics.enable` create it, and a request for all topics never does.
    public func topicNames(withPrefix prefix: String, timeoutMilliseconds: Int32) -> Set<String>? {
        var metadata: UnsafePointer<rd_kafka_metadata>?
        let err = rd_kafka_metadata(self.handle, 1, nil, &metadata, timeoutMilliseconds)
        guard let metadata else { return nil }
        defer { rd_kafka_metadata_destroy(metadata) }
        guard err == RD_KAFKA_RESP_ERR_NO_ERROR else { return nil }
        var names = Set<String>()
        for index in 0..<Int(metadata.pointee.topic_cnt) {
            let topic = metadata.pointee.topics[index]
            guard topic.err != RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART, let name = topic.topic else { continue }
            let string = String(cString: name)
            if string.hasPrefix(prefix) { names.insert(string) }
        }
        return names
    }

    /// The fatal error that stopped the idempotent producer, if any.
    public var fatalError: KafkaError? {
        var errstr = [CChar](repeating: 0, count: 256)
        let err = rd_kafka_fatal_error(self.handle, &errstr, errstr.count)
        return err == RD_KAFKA_RESP_ERR_NO_ERROR ? nil : KafkaError(err)
    }

    static func logLevel(syslog: Int32) -> Logger.Level {
        switch syslog {
        case ...2: return .critical
        case 3: return .error
        case 4: return .warning
        case 5: return .notice
        case 6: return .info
        default: return .debug
        }
    }
}

/// librdkafka refused to create a client.
public struct KafkaClientError: Error, Sendable, CustomStringConvertible {
    public let message: String
    public var description: String { self.message }
}
