import Access
import Atomics
import Ingest
import Logging
import Monitoring
import NIOCore
import NIOHTTP1

/// State shared by every connection of the gateway: configuration, the ingest pipeline, one connection
/// table per event loop. It receives delivery reports and hands each batch to the loop that owns it.
final class GatewayContext: DeliveryReceiver, @unchecked Sendable {
    // @unchecked Sendable: every stored property is a `let` and Sendable except the loop-bound connection
    // tables (each touched only on its own event loop).
    /// As at startup: what cannot change without a restart (listener, drain timing, record keys) is read here;
    /// everything a reload may change is read from `settings`.
    let configuration: GatewayConfiguration
    let ingest: any MessageIngest
    let logger: Logger
    let tables: [LoopConnectionTable]
    private let routes: [ObjectIdentifier: Int]
    let metrics: DaemonMetrics
    var connections: ConnectionCounters { self.metrics.connections }
    /// Set when a graceful shutdown starts: new handshakes get 503, `/ready` says 503.
    var draining: ManagedAtomic<Bool> { self.metrics.state.draining }

    var counters: IngestCounters { self.ingest.counters }

    private let current: ManagedAtomic<GatewaySettings>
    /// `/docs` and `/asyncapi.json`, prepared once (a reload may turn `http.docs` on).
    private let documents = APIDocsResponses()

    init(
        configuration: GatewayConfiguration,
        ingest: any MessageIngest,
        metrics: DaemonMetrics,
        eventLoops: [any EventLoop],
        logger: Logger
    ) {
        precondition(eventLoops.count <= MessageTicket.maxRoutes, "at most \(MessageTicket.maxRoutes) event loops")
        precondition(metrics.ackLatencies.count == eventLoops.count, "one ack latency histogram per event loop")
        self.configuration = configuration
        self.ingest = ingest
        self.metrics = metrics
        self.logger = logger
        self.tables = eventLoops.enumerated().map {
            LoopConnectionTable(route: $0.offset, eventLoop: $0.element, ackLatency: metrics.ackLatencies[$0.offset])
        }
        self.routes = Dictionary(
            uniqueKeysWithValues: eventLoops.enumerated().map { (ObjectIdentifier($0.element), $0.offset) }
        )
        // The handshake checks stay open until `GatewayServer.run()` builds them (the JWT verifier is made
        // asynchronously), before the listener accepts.
        let limits = LimitsRuntime(configuration.limits, ingest: ingest)
        self.current = ManagedAtomic(GatewaySettings(configuration: configuration, access: .open, limits: limits))
        for table in self.tables { table.sweepInterval = limits.sweepInterval }
    }

    /// The handshake checks, limits and per-connection settings in force.
    var settings: GatewaySettings { self.current.load(ordering: .acquiring) }

    /// `/docs` and `/asyncapi.json`, or nil while `http.docs` is off (they answer 404 then).
    var docs: APIDocsResponses? { self.settings.configuration.servesDocs ? self.documents : nil }

    /// Puts `settings` in force for every handshake and connection that opens from now on.
    func replaceSettings(_ settings: GatewaySettings) {
        self.current.store(settings, ordering: .releasing)
    }

    /// Puts `settings` in force unless something else (a reload) replaced `expected` in the meantime.
    func replaceSettings(_ settings: GatewaySettings, ifStill expected: GatewaySettings) {
        _ = self.current.compareExchange(expected: expected, desired: settings, ordering: .acquiringAndReleasing)
    }

    func table(for eventLoop: any EventLoop) -> LoopConnectionTable {
        // Connections live on the group's loops, and every one of them has a route (built in `init`).
        self.tables[self.routes[ObjectIdentifier(eventLoop)]!]
    }

    func deliver(_ results: [DeliveryResult], route: Int) {
        let table = self.tables[route]
        table.eventLoop.execute { table.deliver(results) }
    }

    /// Why a new WebSocket must be turned away right now, if it must.
    func admissionRefusal() -> HTTPRejection? {
        if self.draining.load(ordering: .relaxed) && !self.configuration.listenerOutlivesProcess {
            return HTTPRejection(
                status: .serviceUnavailable,
                code: .shuttingDown,
                message: "the server is shutting down; reconnect to another instance",
                headers: [("Retry-After", "5")]
            )
        }
        return nil
    }

    func healthJSON() -> ByteBuffer {
        var body = ByteBuffer()
        let usage = self.ingest.usage()
        body.writeString("{\"status\":\"ok\",\"draining\":\(self.draining.load(ordering: .relaxed)),\"connections\":")
        JSONText.writeInteger(self.connections.active, into: &body)
        body.writeString(",\"topics\":")
        JSONText.writeInteger(usage.topics, into: &body)
        body.writeString(",\"bufferedBytes\":")
        JSONText.writeInteger(usage.usedBytes, into: &body)
        body.writeString("}")
        return body
    }
}
