import Daemon
import Foundation
import Ingest
import Kafka
import Logging

/// A daemon started in the test process against its own mock cluster, on a kernel-chosen port.
final class RunningDaemon: @unchecked Sendable {
    let broker: MockCluster
    let daemon: Daemon
    let port: Int
    private let task: Task<Void, any Error>

    static func start(
        brokers: Int = 1,
        partitions: Int = 3,
        topics: [String] = [],
        logger: Logger? = nil,
        _ configure: (inout DaemonConfiguration) -> Void = { _ in }
    ) async throws -> RunningDaemon {
        let broker = try MockCluster(brokers: brokers)
        for topic in topics { try broker.createTopic(topic, partitions: partitions) }
        var configuration = DaemonConfiguration()
        configuration.listenHost = "127.0.0.1"
        configuration.listenPort = 0
        configuration.eventLoops = 2
        configuration.bootstrapServers = broker.bootstrapServers
        configuration.drainTimeoutSeconds = 10
        configuration.librdkafka = [("log_level", "3")]
        configure(&configuration)
        let logger =
            logger
            ?? {
                var logger = Logger(label: "test-daemon")
                logger.logLevel = .error
                return logger
            }()
        let daemon = try Daemon(configuration: configuration, logger: logger, handleSignals: false)
        let task = Task { try await daemon.run() }
        let address = try await daemon.localAddress()
        return RunningDaemon(broker: broker, daemon: daemon, port: address.port!, task: task)
    }

    private init(broker: MockCluster, daemon: Daemon, port: Int, task: Task<Void, any Error>) {
        self.broker = broker
        self.daemon = daemon
        self.port = port
        self.task = task
    }

    var counters: IngestCounters.Snapshot { self.daemon.counters.snapshot() }

    /// Whether `accepted` stops growing — one interval without a new message — within 40 intervals:
    /// what a client stopped by TCP backpressure looks like from the daemon.
    func acceptedStopsGrowing(checkingEvery interval: Duration) async throws -> Bool {
        for _ in 0..<40 {
            let before = self.counters.accepted
            try await Task.sleep(for: interval)
            if self.counters.accepted == before { return true }
        }
        return false
    }

    /// Ordered graceful shutdown, as SIGTERM would do it; waits until the daemon has stopped.
    func stop() async throws {
        await self.daemon.shutDown()
        try await self.task.value
    }

    func reader() throws -> TopicReader {
        try TopicReader(bootstrapServers: self.broker.bootstrapServers)
    }

    /// Values that landed in `topic`, read with an independent consumer.
    func values(in topic: String, expecting count: Int, timeoutSeconds: Double = 20) throws -> [String] {
        try self.reader().readRecords(of: topic, count: count, timeoutSeconds: timeoutSeconds).map {
            String(decoding: $0.value, as: UTF8.self)
        }
    }
}

/// A unique chat name per test, so tests sharing nothing never read each other's records.
func uniqueChat(_ prefix: String = "t") -> String {
    "\(prefix)-\(UInt32.random(in: 0...UInt32.max))"
}
