import Prometheus

/// swift-prometheus 2.4 deprecates registering by a plain name; every name here is complete already
/// (`kcp_…_total`, `…_bytes`), so it goes in whole as the descriptor's metric name.
extension PrometheusCollectorRegistry {
    func counter(named name: String, labels: [(String, String)] = [], help: String) -> Counter {
        self.makeCounter(
            descriptor: MetricNameDescriptor(metricName: name, unitName: "", helpText: help),
            labels: labels
        )
    }

    func gauge(named name: String, labels: [(String, String)] = [], help: String) -> Gauge {
        self.makeGauge(descriptor: MetricNameDescriptor(metricName: name, unitName: "", helpText: help), labels: labels)
    }
}
