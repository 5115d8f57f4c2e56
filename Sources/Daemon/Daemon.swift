import Dispatch
import Foundation
import Gateway
import Ingest
import Kafka
import Logging
import Monitoring
import NIOCore
import NIOPosix
import ServiceLifecycle
import UnixSignals

/// The whole daemon, wired: (embedded broker) → librdkafka producer → producer thread → gateway.
///
/// `run()` serves until SIGTERM/SIGINT (or `shutDown()`), then shuts down in order: the gateway drains
/// (no new connections, no reads, rings drained, librdkafka flushed, acks sent, WebSockets closed with
/// 1001), then the producer thread stops, then the event loops and the Kafka client go.
public final class Daemon: @unchecked Sendable {
    // @unchecked Sendable: every stored property is a `let` and Sendable except `faultHookSource`, a
    // DispatchSource that is only created, resumed and cancelled by `init`/`run` and never shared.
    public let configuration: DaemonConfiguration
    public let counters: IngestCounters
    /// What `/metrics` and `/ready` report; its registry also takes swift-metrics metrics.
    public let metrics: DaemonMetrics
    /// Where the daemon publishes (the embedded broker's address when it runs one).
    public let bootstrapServers: String
    private let embeddedBroker: MockCluster?
    private let producer: ProducerThread
    private let gateway: GatewayServer
    private let group: MultiThreadedEventLoopGroup
    private let serviceGroup: ServiceGroup
    private let logger: Logger
    private let faultHookSource: (any DispatchSourceSignal)?
    private let reloader: ConfigurationReloader

    public init(
        configuration: DaemonConfiguration,
        logger: Logger,
        handleSignals: Bool = true,
        listeningSocket: NIOBSDSocket.Handle? = nil,
        source: ConfigurationSource? = nil,
        logLevel: LogLevelSwitch? = nil
    ) throws {
        self.configuration = configuration
        self.logger = logger
        // SIGHUP reloads (ReloadService); until that service runs, ignore it instead of dying of it.
        if handleSignals { signal(SIGHUP, SIG_IGN) }
        // Token and key files first: a bad one must fail before threads and clients exist.
        let access = try AccessSettingsLoader.load(configuration)
        switch try configuration.kafkaTarget() {
        case .embeddedCluster(let brokers):
            let broker = try MockCluster(brokers: brokers)
            self.embeddedBroker = broker
            self.bootstrapServers = broker.bootstrapServers
            logger.warning(
                "EMBEDDED BROKER: librdkafka's mock cluster, in this process's memory only — every message is lost when the daemon stops. Never use in production.",
                metadata: [
                    "bootstrap": "\(broker.bootstrapServers)",
                    "see": "kcat -b \(broker.bootstrapServers) -C -t kafka.chat.global",
                ]
            )
        case .bootstrapServers(let servers):
            self.embeddedBroker = nil
            self.bootstrapServers = servers
        }

        let kafka = try KafkaProducer(
            configuration: configuration.kafkaConfiguration(bootstrapServers: self.bootstrapServers),
            logger: logger
        )
        let threads = configuration.eventLoops == 0 ? System.coreCount : configuration.eventLoops
        self.counters = IngestCounters(eventLoops: threads)
        self.producer = ProducerThread(
            producer: kafka,
            configuration: configuration.producer,
            counters: self.counters,
            logger: logger
        )
        self.metrics = DaemonMetrics(
            configuration: .init(
                ringBudgetBytes: configuration.budgetBytes,
                readinessHighWater: Double(configuration.readinessHighWaterPercent) / 100
            ),
            ingest: self.counters,
            rings: self.producer.registry,
            eventLoopCount: threads
        )
        let statistics = self.metrics.kafkaStatistics
        kafka.onStatistics = { json in statistics.receive(json: json) }
        self.group = MultiThreadedEventLoopGroup(numberOfThreads: threads)
        // The socket unit's socket, the stored one from the previous run, or one bound here and stored.
        let listener =
            listeningSocket == nil
            ? try ListenerStore(notifier: SystemdNotifier(), logger: logger).open(
                host: configuration.listenHost,
                port: configuration.listenPort,
                backlog: GatewayServer.backlog
            ) : nil
        let activated = listeningSocket ?? listener?.fd
        var gatewayConfiguration = configuration.gateway
        gatewayConfiguration.access = access
        gatewayConfiguration.listenerOutlivesProcess = listener != nil
        self.gateway = GatewayServer(
            configuration: gatewayConfiguration,
            ingest: self.producer,
            metrics: self.metrics,
            group: self.group,
            logger: logger,
            listeningSocket: activated
        )
        let notifier = SystemdNotifier()
        let systemdStatus = SystemdStatus()
        self.reloader = ConfigurationReloader(
            running: configuration,
            source: source,
            gateway: self.gateway,
            rings: self.producer.registry,
            metrics: self.metrics,
            logLevel: logLevel,
            notifier: notifier,
            status: systemdStatus,
            logger: logger
        )
        let reloadServices: [ServiceGroupConfiguration.ServiceConfiguration] =
            handleSignals ? [.init(service: ReloadService(reloader: self.reloader))] : []
        self.gateway.onDrainStarted = { budget in
            notifier.stopping(extendMicroseconds: UInt64(budget.components.seconds) * 1_000_000)
        }
        if configuration.testingFaultHooks {
            logger.warning("testing.fault_hooks is on: SIGUSR2 stalls the producer thread")
            let producer = self.producer
            signal(SIGUSR2, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: SIGUSR2)
            source.setEventHandler { producer.stallForTesting() }
            source.resume()
            self.faultHookSource = source
        } else {
            self.faultHookSource = nil
        }
        self.serviceGroup = ServiceGroup(
            configuration: ServiceGroupConfiguration(
                services: [
                    .init(service: ProducerService(producer: self.producer)),
                    .init(service: self.gateway),
                    .init(
                        service: BrokerProbeService(
                            producer: kafka,
                            metrics: self.metrics,
                            interval: .milliseconds(Int64(configuration.brokerCheckSeconds * 1000)),
                            logger: logger
                        )
                    ),
                    // Last, so it stops first on shutdown: it only watches the others.
                    .init(
                        service: WatchdogService(
                            notifier: notifier,
                            producer: self.producer,
                            kafka: kafka,
                            gateway: self.gateway,
                            metrics: self.metrics,
                            status: systemdStatus,
                            eventLoops: Array(self.group.makeIterator()),
                            logger: logger
                        )
                    ),
                ] + reloadServices,
                gracefulShutdownSignals: handleSignals ? [.sigterm, .sigint] : [],
                logger: logger
            )
        )
    }

    /// Serves until shut down; returns after the ordered shutdown finished.
    public func run() async throws {
        self.producer.start(receiver: self.gateway.deliveryReceiver)
        self.logger.info(
            "kafka-chat-producer starting",
            metadata: [
                "bootstrap": "\(self.bootstrapServers)",
                "eventLoops":
                    "\(self.configuration.eventLoops == 0 ? System.coreCount : self.configuration.eventLoops)",
            ]
        )
        defer {
            let final = self.counters.snapshot()
            self.logger.notice(
                "stopped",
                metadata: [
                    "received": "\(final.received)", "rejected": "\(final.rejected)", "accepted": "\(final.accepted)",
                    "delivered": "\(final.delivered)", "failed": "\(final.failed)",
                    "refusedAtShutdown": "\(final.refusedAtShutdown)",
                ]
            )
        }
        do {
            try await self.serviceGroup.run()
        } catch {
            await self.producer.stop()
            try? await self.group.shutdownGracefully()
            throw error
        }
        try? await self.group.shutdownGracefully()
    }

    /// The listener's address once bound (port 0 resolved).
    public func localAddress() async throws -> SocketAddress {
        try await self.gateway.localAddress()
    }

    /// Starts the ordered graceful shutdown, as SIGTERM would.
    public func shutDown() async {
        await self.serviceGroup.triggerGracefulShutdown()
    }

    /// Reloads the configuration, as SIGHUP does; false when the new one was refused (the old stays in force).
    @discardableResult
    public func reload() async -> Bool {
        if case .applied = await self.reloader.reload() { return true }
        return false
    }

    /// Open WebSocket connections.
    public var activeConnections: Int { self.gateway.activeConnections }

    /// Ring usage, for tests and status lines.
    public var bufferUsage: RingRegistry.Usage { self.producer.usage() }
}
