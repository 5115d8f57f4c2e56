import Ingest
import Prometheus
import Synchronization

/// Everything `/metrics` and `/ready` report, in one registry.
///
/// The hot path never touches the Prometheus registry: it bumps its own relaxed atomics (`IngestCounters`,
/// `ConnectionCounters`) and single-writer `LatencyHistogram`s. A scrape copies those figures into the
/// swift-prometheus counters and gauges (counters by their increase since the last scrape, so they stay
/// monotonic), samples librdkafka's statistics and procfs, and renders the text format. The registry is
/// also where swift-metrics (`MetricsSystem`) sends metrics from libraries, when the executable bootstraps
/// it with `PrometheusMetricsFactory(registry: metrics.registry)`.
public final class DaemonMetrics: Sendable {
    public struct Configuration: Sendable {
        /// Memory all topic rings together may use (`buffer.budget_bytes`).
        public var ringBudgetBytes: Int
        /// Fill ratio of the rings or librdkafka's queue at which `/ready` says 503.
        public var readinessHighWater: Double

        public init(ringBudgetBytes: Int, readinessHighWater: Double) {
            self.ringBudgetBytes = ringBudgetBytes
            self.readinessHighWater = readinessHighWater
        }
    }

    public let registry = PrometheusCollectorRegistry()
    public let ingest: IngestCounters
    public let connections = ConnectionCounters()
    public let state = ServiceState()
    public let kafkaStatistics = KafkaStatisticsCollector()
    /// `kcp_config_reloads_total` and the other reload figures.
    public let reloads: ReloadMetrics
    /// One per event loop; each written by its loop only.
    public let ackLatencies: [LatencyHistogram]
    /// Watchdog checks that sent `WATCHDOG=1`, and those that found something stuck and sent nothing.
    private let watchdogPings: Counter
    private let watchdogMissed: Counter

    private let configuration: Configuration
    /// `readinessHighWater`'s bit pattern: a reload may change it.
    private let highWater: Atomic<UInt64>
    private let rings: RingRegistry
    private let exported: Mutex<ExportedMetrics>

    public init(configuration: Configuration, ingest: IngestCounters, rings: RingRegistry, eventLoopCount: Int) {
        self.configuration = configuration
        self.highWater = Atomic(configuration.readinessHighWater.bitPattern)
        self.reloads = ReloadMetrics(registry: self.registry)
        self.ingest = ingest
        self.rings = rings
        self.ackLatencies = (0..<eventLoopCount).map { _ in LatencyHistogram() }
        self.watchdogPings = self.registry.counter(
            named: "kcp_watchdog_pings_total",
            help:
                "Watchdog checks that found every event loop and the producer thread making progress, and sent WATCHDOG=1."
        )
        self.watchdogMissed = self.registry.counter(
            named: "kcp_watchdog_missed_total",
            help: "Watchdog checks that found an event loop or the producer thread stuck, and sent no WATCHDOG=1."
        )
        self.exported = Mutex(ExportedMetrics(registry: self.registry))
    }

    /// The watchdog found every loop and the producer thread moving, and pinged systemd.
    public func watchdogPinged() {
        self.watchdogPings.increment()
    }

    /// The watchdog found something stuck and withheld its ping.
    public func watchdogWithheldPing() {
        self.watchdogMissed.increment()
    }

    /// A reload's `readiness.high_water_percent`, as a ratio.
    public func setReadinessHighWater(_ ratio: Double) {
        self.highWater.store(ratio.bitPattern, ordering: .relaxed)
    }

    /// What `/ready` answers now.
    public func readiness() -> Readiness {
        let usage = self.rings.usage()
        return Readiness.evaluate(
            draining: self.state.isDraining,
            brokerReachable: self.state.isBrokerReachable,
            ringUsedBytes: usage.usedBytes,
            ringReservedBytes: usage.reservedBytes,
            kafka: self.kafkaStatistics.current()?.statistics,
            highWater: Double(bitPattern: self.highWater.load(ordering: .relaxed))
        )
    }

    /// The Prometheus text exposition format (version 0.0.4).
    public func exposition() -> [UInt8] {
        let readiness = self.readiness()
        let usage = self.rings.usage()
        let kafka = self.kafkaStatistics.current()?.statistics
        let process = ProcessStatistics.current()
        let ackLatency = self.ackLatencies.reduce(LatencyHistogram.Snapshot.zero) { $0 + $1.snapshot() }
        let deliveryLatency = self.ingest.deliveryLatency.snapshot()
        var output: [UInt8] = []
        output.reserveCapacity(16 * 1024)
        self.exported.withLock { exported in
            exported.update(
                ingest: self.ingest,
                connections: self.connections,
                usage: usage,
                budgetBytes: self.configuration.ringBudgetBytes,
                readiness: readiness,
                draining: self.state.isDraining,
                kafka: kafka,
                process: process
            )
            self.registry.emit(into: &output)
        }
        HistogramExposition.write(
            name: "kcp_ack_latency_seconds",
            help: "Time from accepting an ack-mode message to writing its ack or nack.",
            snapshot: ackLatency,
            into: &output
        )
        HistogramExposition.write(
            name: "kcp_delivery_latency_seconds",
            help: "Time from handing a message to librdkafka to its successful delivery report.",
            snapshot: deliveryLatency,
            into: &output
        )
        return output
    }
}
