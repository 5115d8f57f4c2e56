import Foundation
import Prometheus

/// What `/metrics` says about configuration reloads (SIGHUP): how many were applied or refused, when the
/// configuration in force was last loaded successfully (start-up counts: alert when it is old while
/// reloads fail), and whether a changed key waits for a restart. Named after Prometheus's own
/// `prometheus_config_last_reload_success_timestamp_seconds`, so existing alert habits carry over.
public final class ReloadMetrics: Sendable {
    private let applied: Counter
    private let refused: Counter
    private let lastSuccess: Gauge
    private let lastSucceeded: Gauge
    private let restartPending: Gauge

    init(registry: PrometheusCollectorRegistry) {
        let help =
            "Configuration reloads (SIGHUP, systemctl reload): success applied the new configuration, failure kept the old one."
        self.applied = registry.counter(named: "kcp_config_reloads_total", labels: [("result", "success")], help: help)
        self.refused = registry.counter(named: "kcp_config_reloads_total", labels: [("result", "failure")], help: help)
        self.lastSuccess = registry.gauge(
            named: "kcp_config_last_reload_success_timestamp_seconds",
            help: "Unix time at which the configuration in force was loaded (start-up or the last successful reload)."
        )
        self.lastSucceeded = registry.gauge(
            named: "kcp_config_last_reload_successful",
            help: "1 when the last load of the configuration (start-up or reload) was applied, 0 when it was refused."
        )
        self.restartPending = registry.gauge(
            named: "kcp_config_restart_pending",
            help:
                "1 when a reloaded configuration changed a key that only a restart applies (listen.*, kafka.*, buffer.*)."
        )
        self.loaded(restartPending: false)
    }

    /// The configuration was loaded (at start-up) or a reload was applied.
    public func loaded(restartPending: Bool) {
        self.lastSuccess.set(Date().timeIntervalSince1970)
        self.lastSucceeded.set(Int64(1))
        self.restartPending.set(Int64(restartPending ? 1 : 0))
    }

    /// A reload was applied.
    public func reloadApplied(restartPending: Bool) {
        self.applied.increment()
        self.loaded(restartPending: restartPending)
    }

    /// A reload was refused; the configuration in force did not change.
    public func reloadRefused() {
        self.refused.increment()
        self.lastSucceeded.set(Int64(0))
    }
}
