import Atomics
import Ingest
import Prometheus

/// The registry's counters and gauges, and what was last copied into them. Only touched under
/// `DaemonMetrics`' lock, by scrapes.
struct ExportedMetrics {
    private let registry: PrometheusCollectorRegistry

    private var connectionsOpened: ExportedCounter
    private var connectionsRejected: LabeledCounters<ConnectionRejection>
    private let connectionsActive: Gauge
    private let connectionsPaused: Gauge
    private var connectionsClosed: LabeledCounters<ServerCloseReason>
    private var rateLimitPauses: ExportedCounter

    private var messagesReceived: ExportedCounter
    private var messagesRejected: LabeledCounters<MessageRejectionKind>
    private var messagesAccepted: ExportedCounter
    private var messagesProduced: ExportedCounter
    private var messagesDelivered: ExportedCounter
    private var messagesFailed: LabeledCounters<DeliveryFailureCause>
    private var receivedBytes: ExportedCounter
    private var acceptedBytes: ExportedCounter
    private var backpressurePauses: ExportedCounter

    private let ringUsed: Gauge
    private let ringReserved: Gauge
    private let ringBudget: Gauge
    private let topicsActive: Gauge
    private let ready: Gauge
    private let draining: Gauge

    private let kafkaBrokersUp: Gauge
    private let kafkaQueueMessages: Gauge
    private let kafkaQueueBytes: Gauge
    private let kafkaQueueMaxMessages: Gauge
    private let kafkaQueueMaxBytes: Gauge
    private let kafkaBatchSize: Gauge
    private let kafkaBatchMessages: Gauge
    private var kafkaTransmitErrors: ExportedCounter
    private var kafkaTransmitRetries: ExportedCounter
    /// By broker node id.
    private var brokerGauges: [Int: BrokerGauges] = [:]

    private var processCPU: ExportedCounter
    private let processResident: Gauge
    private let processVirtual: Gauge
    private let processOpenFDs: Gauge
    private let processMaxFDs: Gauge
    private let processStart: Gauge
    private let processThreads: Gauge

    init(registry: PrometheusCollectorRegistry) {
        self.registry = registry
        func counter(_ name: String, _ help: String) -> ExportedCounter {
            ExportedCounter(registry.counter(named: name, help: help))
        }
        func gauge(_ name: String, _ help: String) -> Gauge {
            registry.gauge(named: name, help: help)
        }
        self.connectionsOpened = counter("kcp_connections_opened_total", "WebSocket connections accepted (upgraded).")
        self.connectionsRejected = LabeledCounters(
            registry,
            named: "kcp_connections_rejected_total",
            label: "reason",
            values: ConnectionRejection.allCases,
            labelValue: \.label,
            help: "HTTP requests answered with an error instead of a WebSocket, by error code."
        )
        self.connectionsActive = gauge("kcp_connections_active", "WebSocket connections open now.")
        self.connectionsPaused = gauge(
            "kcp_connections_paused",
            "WebSocket connections not being read because of backpressure (ring full, acks in flight, or client not reading)."
        )
        self.connectionsClosed = LabeledCounters(
            registry,
            named: "kcp_connections_closed_total",
            label: "reason",
            values: ServerCloseReason.allCases,
            labelValue: \.label,
            help: "WebSocket connections the server closed (protocol violation, limit, shutdown), by reason."
        )
        self.rateLimitPauses = counter(
            "kcp_rate_limit_pauses_total",
            "Times a connection stopped reading because it exceeded limits.messages_per_second or limits.bytes_per_second."
        )
        self.messagesReceived = counter("kcp_messages_received_total", "Text messages received, valid or not.")
        self.messagesRejected = LabeledCounters(
            registry,
            named: "kcp_messages_rejected_total",
            label: "reason",
            values: MessageRejectionKind.allCases,
            labelValue: \.label,
            help: "Messages refused with an error reply (nothing published), by reason."
        )
        self.messagesAccepted = counter(
            "kcp_messages_accepted_total",
            "Messages written to a topic buffer; each ends delivered or failed."
        )
        self.messagesProduced = counter("kcp_messages_produced_total", "Messages handed to librdkafka.")
        self.messagesDelivered = counter("kcp_messages_delivered_total", "Messages the Kafka broker confirmed.")
        self.messagesFailed = LabeledCounters(
            registry,
            named: "kcp_messages_failed_total",
            label: "error",
            values: DeliveryFailureCause.allCases,
            labelValue: \.label,
            help: "Accepted messages that could not be delivered (nacked to ack-mode clients, logged), by error."
        )
        self.receivedBytes = counter("kcp_received_bytes_total", "Payload bytes of the text messages received.")
        self.acceptedBytes = counter("kcp_accepted_bytes_total", "Bytes of the Kafka record values accepted.")
        self.backpressurePauses = counter(
            "kcp_backpressure_pauses_total",
            "Times a connection stopped reading because its topic buffer was full."
        )
        self.ringUsed = gauge("kcp_ring_used_bytes", "Bytes waiting in the topic buffers.")
        self.ringReserved = gauge(
            "kcp_ring_reserved_bytes",
            "Capacity of the topic buffers that exist, charged to the budget."
        )
        self.ringBudget = gauge("kcp_ring_budget_bytes", "Memory all topic buffers together may reserve.")
        self.topicsActive = gauge("kcp_topics_active", "Topics with a buffer now.")
        self.ready = gauge("kcp_ready", "1 when GET /ready answers 200.")
        self.draining = gauge("kcp_draining", "1 while a graceful shutdown drains.")
        self.kafkaBrokersUp = gauge("kcp_kafka_brokers_up", "Kafka brokers librdkafka has a connection up to.")
        self.kafkaQueueMessages = gauge("kcp_kafka_queue_messages", "Messages queued or in flight in librdkafka.")
        self.kafkaQueueBytes = gauge("kcp_kafka_queue_bytes", "Bytes queued or in flight in librdkafka.")
        self.kafkaQueueMaxMessages = gauge(
            "kcp_kafka_queue_max_messages",
            "librdkafka's queue limit in messages (queue.buffering.max.messages)."
        )
        self.kafkaQueueMaxBytes = gauge(
            "kcp_kafka_queue_max_bytes",
            "librdkafka's queue limit in bytes (queue.buffering.max.kbytes)."
        )
        self.kafkaBatchSize = gauge(
            "kcp_kafka_batch_size_avg_bytes",
            "Average size of the batches sent in librdkafka's last statistics window."
        )
        self.kafkaBatchMessages = gauge(
            "kcp_kafka_batch_messages_avg",
            "Average messages per batch in librdkafka's last statistics window."
        )
        self.kafkaTransmitErrors = counter("kcp_kafka_tx_errors_total", "Request transmission errors to Kafka brokers.")
        self.kafkaTransmitRetries = counter("kcp_kafka_tx_retries_total", "Requests librdkafka retried.")
        self.processCPU = ExportedCounter(
            registry.counter(named: "process_cpu_seconds_total", help: "User and system CPU time spent, in seconds.")
        )
        self.processResident = gauge("process_resident_memory_bytes", "Resident memory size in bytes.")
        self.processVirtual = gauge("process_virtual_memory_bytes", "Virtual memory size in bytes.")
        self.processOpenFDs = gauge("process_open_fds", "Open file descriptors.")
        self.processMaxFDs = gauge("process_max_fds", "Limit on open file descriptors.")
        self.processStart = gauge(
            "process_start_time_seconds",
            "Start time of the process since the Unix epoch, in seconds."
        )
        self.processThreads = gauge("process_threads", "Threads in the process.")
        registry.gauge(
            named: "kcp_build_info",
            labels: [("version", BuildInfo.version)],
            help: "Always 1; the version label says which build runs."
        )
        .set(Int64(1))
    }

    mutating func update(
        ingest: IngestCounters,
        connections: ConnectionCounters,
        usage: RingRegistry.Usage,
        budgetBytes: Int,
        readiness: Readiness,
        draining: Bool,
        kafka: KafkaStatistics?,
        process: ProcessStatistics?
    ) {
        self.connectionsOpened.update(to: connections.openedTotal)
        self.connectionsRejected.update(connections.rejections())
        self.connectionsClosed.update(connections.closes())
        self.rateLimitPauses.update(to: connections.rateLimitPauses)
        self.connectionsActive.set(Int64(connections.active))
        self.connectionsPaused.set(Int64(max(0, connections.paused)))

        let totals = ingest.snapshot()
        self.messagesReceived.update(to: totals.received)
        self.messagesRejected.update(ingest.rejectionsByKind())
        self.messagesAccepted.update(to: totals.accepted)
        self.messagesProduced.update(to: totals.produced)
        self.messagesDelivered.update(to: totals.delivered)
        self.messagesFailed.update(ingest.failuresByCause())
        self.receivedBytes.update(to: totals.receivedBytes)
        self.acceptedBytes.update(to: totals.acceptedBytes)
        self.backpressurePauses.update(to: totals.backpressurePauses)

        self.ringUsed.set(Int64(usage.usedBytes))
        self.ringReserved.set(Int64(usage.reservedBytes))
        self.ringBudget.set(Int64(budgetBytes))
        self.topicsActive.set(Int64(usage.topics))
        self.ready.set(Int64(readiness.isReady ? 1 : 0))
        self.draining.set(Int64(draining ? 1 : 0))

        if let kafka {
            self.update(kafka)
        }
        if let process {
            self.processCPU.update(to: process.cpuSeconds)
            self.processResident.set(Int64(process.residentMemoryBytes))
            self.processVirtual.set(Int64(process.virtualMemoryBytes))
            self.processOpenFDs.set(Int64(process.openFileDescriptors))
            self.processMaxFDs.set(Int64(clamping: process.maxFileDescriptors))
            self.processStart.set(process.startTimeSeconds)
            self.processThreads.set(Int64(process.threads))
        }
    }

    private mutating func update(_ kafka: KafkaStatistics) {
        self.kafkaBrokersUp.set(Int64(kafka.brokersUp))
        self.kafkaQueueMessages.set(Int64(kafka.queueMessages))
        self.kafkaQueueBytes.set(Int64(kafka.queueBytes))
        self.kafkaQueueMaxMessages.set(Int64(kafka.queueMaxMessages))
        self.kafkaQueueMaxBytes.set(Int64(kafka.queueMaxBytes))
        self.kafkaBatchSize.set(kafka.batchSizeAverageBytes)
        self.kafkaBatchMessages.set(kafka.batchMessagesAverage)
        self.kafkaTransmitErrors.update(to: kafka.transmitErrors)
        self.kafkaTransmitRetries.update(to: kafka.transmitRetries)
        var seen = Set<Int>()
        for broker in kafka.brokers {
            seen.insert(broker.nodeID)
            let gauges = self.brokerGauges[broker.nodeID] ?? BrokerGauges(self.registry, nodeID: broker.nodeID)
            self.brokerGauges[broker.nodeID] = gauges
            gauges.update(broker)
        }
        // A broker that left the cluster keeps its series, marked down.
        for (nodeID, gauges) in self.brokerGauges where !seen.contains(nodeID) {
            gauges.up.set(Int64(0))
        }
    }
}
