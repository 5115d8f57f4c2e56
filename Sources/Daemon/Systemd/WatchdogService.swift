import Atomics
import Foundation
import Gateway
import Ingest
import Kafka
import Logging
import Monitoring
import NIOCore
import ServiceLifecycle

/// Tells systemd the daemon is ready, keeps `STATUS=` current, and pings the watchdog only while the
/// daemon really makes progress: every event loop must run a probe task, and the producer thread must
/// have turned its loop recently. A wedged loop or producer thread stops the pings, and systemd restarts
/// the service. A timer that pings unconditionally would prove nothing.
struct WatchdogService: Service {
    let notifier: SystemdNotifier
    let producer: ProducerThread
    /// Asked for cluster metadata before READY=1.
    let kafka: KafkaProducer
    let gateway: GatewayServer
    let metrics: DaemonMetrics
    /// READY=1 is recorded here; its note (a refused reload, a pending restart) ends every STATUS= line.
    let status: SystemdStatus
    let eventLoops: [any EventLoop]
    let logger: Logger

    func run() async throws {
        await cancelWhenGracefulShutdown {
            await self.waitUntilReady()
            let watchdogInterval = SystemdNotifier.watchdogInterval()
            let interval = watchdogInterval ?? .seconds(5)
            // The producer thread turns its loop at least once a second even when idle.
            let progressLimit = UInt64(max(interval, .seconds(3)).components.seconds) * 1_000_000_000
            var lastCounters = self.producer.counters.snapshot()
            var lastTime = ContinuousClock.now
            while !Task.isCancelled {
                try? await Task.sleep(for: interval)
                if Task.isCancelled { break }
                let loopsAnswer = await self.eventLoopsAnswer(within: .milliseconds(200))
                let age = MonotonicClock.nanoseconds() &- self.producer.lastProgressNanoseconds
                if loopsAnswer && age < progressLimit {
                    if watchdogInterval != nil {
                        self.notifier.watchdog()
                        self.metrics.watchdogPinged()
                    }
                } else {
                    self.metrics.watchdogWithheldPing()
                    self.logger.critical(
                        "watchdog: no progress, not pinging systemd",
                        metadata: ["eventLoopsAnswer": "\(loopsAnswer)", "producerIdleSeconds": "\(Double(age) / 1e9)"]
                    )
                }
                let now = ContinuousClock.now
                let counters = self.producer.counters.snapshot()
                let seconds =
                    Double((now - lastTime).components.attoseconds) / 1e18 + Double((now - lastTime).components.seconds)
                self.notifier.status(self.statusLine(counters, previous: lastCounters, seconds: seconds))
                lastCounters = counters
                lastTime = now
            }
        }
    }

    /// READY=1 once the listener is bound and librdkafka fetched cluster metadata; never when a shutdown
    /// came first (the daemon was not ready, it is stopping).
    private func waitUntilReady() async {
        _ = try? await self.gateway.localAddress()
        while !Task.isCancelled {
            let producer = self.kafka
            let reachable = await DedicatedWork.value(ifCancelled: false) {
                producer.fetchMetadata(timeoutMilliseconds: 1000)
            }
            if reachable { break }
            self.logger.warning("waiting for Kafka metadata before reporting ready")
        }
        guard !Task.isCancelled else { return }
        self.notifier.ready(status: "ready; \(self.gateway.activeConnections) connections")
        self.status.announcedReady()
        self.logger.info("ready")
    }

    /// Every loop runs a trivial task within `timeout`; a loop that does not is wedged.
    private func eventLoopsAnswer(within timeout: Duration) async -> Bool {
        let answered = ManagedAtomic<Int>(0)
        for loop in self.eventLoops {
            loop.execute { answered.wrappingIncrement(ordering: .relaxed) }
        }
        let deadline = ContinuousClock.now + timeout
        while answered.load(ordering: .relaxed) < self.eventLoops.count && ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(5))
        }
        return answered.load(ordering: .relaxed) == self.eventLoops.count
    }

    private func statusLine(
        _ now: IngestCounters.Snapshot,
        previous: IngestCounters.Snapshot,
        seconds: Double
    ) -> String {
        let received = Double(now.received - previous.received) / max(seconds, 0.001)
        let delivered = Double(now.delivered - previous.delivered) / max(seconds, 0.001)
        let usage = self.producer.usage()
        let readiness = self.metrics.readiness()
        let ready =
            readiness.isReady ? "ready" : "not ready (" + readiness.reasons.map(\.code).joined(separator: ", ") + ")"
        return
            "\(ready); \(self.gateway.activeConnections) connections, \(Int(received)) msgs/s in, \(Int(delivered)) msgs/s delivered, "
            + "\(usage.usedBytes) bytes queued in \(usage.topics) topics, \(now.failed) failed"
            + (self.status.note.map { "; \($0)" } ?? "")
    }
}
