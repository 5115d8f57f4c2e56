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
    // @unchecked Sendable: every stored property is a `let` and Sendable except `access`, which
    // `GatewayServer.run()` sets once before the listener accepts and is only read afterwards, and the
    // loop-bound connection tables (each touched only on its own event loop).
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

    /// The handshake checks built from `configuration.access`; replaced once by `GatewayServer.run()`
    /// before the listener accepts (building the JWT verifier is asynchronous), read-only afterwards.
    var access = AccessControl.open
    /// Connection counts, topic list cache and timings of `configuration.limits`.
    let limitsRuntime: LimitsRuntime
    /// `/docs` and `/asyncapi.json`, or nil when `http.docs` is off (they answer 404 then).
    let docs: APIDocsResponses?

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
        self.limitsRuntime = LimitsRuntime(configuration.limits, ingest: ingest)
        self.docs = configuration.servesDocs ? APIDocsResponses() : nil
        for table in self.tables { table.sweepInterval = self.limitsRuntime.sweepInterval }
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
