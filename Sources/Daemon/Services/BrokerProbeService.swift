import Ingest
import Kafka
import Logging
import Monitoring
import ServiceLifecycle

/// Keeps `ServiceState.brokerReachable` honest for `/ready`.
///
/// librdkafka's statistics say which broker connections are up, but librdkafka only connects to brokers
/// it needs: an idle producer may show none up while the cluster is fine. So when the statistics show no
/// broker up (or are stale), the probe asks the cluster for metadata, which opens a connection if one
/// can be had; only a failed request marks the broker unreachable.
struct BrokerProbeService: Service {
    let producer: KafkaProducer
    let metrics: DaemonMetrics
    let interval: Duration
    let logger: Logger

    func run() async throws {
        await cancelWhenGracefulShutdown {
            var wasReachable: Bool?
            while !Task.isCancelled {
                let reachable = await self.check()
                self.metrics.state.setBrokerReachable(reachable)
                if reachable != wasReachable {
                    if reachable {
                        self.logger.notice(
                            "Kafka reachable",
                            metadata: ["ready": "\(self.metrics.readiness().isReady)"]
                        )
                    } else {
                        self.logger.error("Kafka unreachable: no broker answered; /ready answers 503")
                    }
                    wasReachable = reachable
                }
                try? await Task.sleep(for: self.interval)
            }
        }
    }

    private func check() async -> Bool {
        let intervalSeconds =
            Double(self.interval.components.seconds) + Double(self.interval.components.attoseconds) / 1e18
        if let current = self.metrics.kafkaStatistics.current(),
            current.statistics.brokersUp > 0,
            current.ageSeconds < max(3 * intervalSeconds, 3)
        {
            return true
        }
        let producer = self.producer
        let timeout = Int32(min(max(intervalSeconds * 1000, 500), 5000))
        return await DedicatedWork.value(ifCancelled: false) {
            producer.fetchMetadata(timeoutMilliseconds: timeout)
        }
    }
}
