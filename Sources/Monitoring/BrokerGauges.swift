import Prometheus

/// The gauges of one Kafka broker, labelled with its node id (node ids are few — the cluster's size — so
/// the label stays bounded).
struct BrokerGauges {
    let up: Gauge
    let rttAverage: Gauge
    let rttP99: Gauge
    let internalLatencyAverage: Gauge
    let internalLatencyP99: Gauge

    init(_ registry: PrometheusCollectorRegistry, nodeID: Int) {
        let labels = [("broker", String(nodeID))]
        func gauge(_ name: String, _ help: String) -> Gauge {
            registry.gauge(named: name, labels: labels, help: help)
        }
        self.up = gauge("kcp_kafka_broker_up", "1 when librdkafka's connection to the broker is up.")
        self.rttAverage = gauge(
            "kcp_kafka_broker_rtt_avg_seconds",
            "Average broker round-trip time in librdkafka's last statistics window."
        )
        self.rttP99 = gauge(
            "kcp_kafka_broker_rtt_p99_seconds",
            "99th percentile broker round-trip time in librdkafka's last statistics window."
        )
        self.internalLatencyAverage = gauge(
            "kcp_kafka_broker_internal_latency_avg_seconds",
            "Average time produce requests waited in librdkafka's internal queue, last statistics window."
        )
        self.internalLatencyP99 = gauge(
            "kcp_kafka_broker_internal_latency_p99_seconds",
            "99th percentile time produce requests waited in librdkafka's internal queue, last statistics window."
        )
    }

    func update(_ broker: KafkaStatistics.Broker) {
        self.up.set(Int64(broker.isUp ? 1 : 0))
        self.rttAverage.set(broker.rttAverageSeconds)
        self.rttP99.set(broker.rttP99Seconds)
        self.internalLatencyAverage.set(broker.internalLatencyAverageSeconds)
        self.internalLatencyP99.set(broker.internalLatencyP99Seconds)
    }
}
