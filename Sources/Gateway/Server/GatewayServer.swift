import Access
import Atomics
import Ingest
import Logging
import Monitoring
import NIOCore
import NIOHTTP1
import NIOPosix
import ServiceLifecycle

#if canImport(Glibc)
import Glibc
#endif

/// The WebSocket/HTTP listener as a service: binds, serves, and on graceful shutdown runs the ordered
/// drain — stop accepting, stop reading, push what was read, drain rings and flush librdkafka, send the
/// last acks, close every WebSocket with 1001.
public final class GatewayServer: Service, @unchecked Sendable {
    // @unchecked Sendable: every stored property is a `let` except `onDrainStarted`, which the owner sets
    // once before `run()` and which is only read by `run()`'s shutdown afterwards.
    private let context: GatewayContext
    private let group: any EventLoopGroup
    private let logger: Logger
    private let listeningSocket: NIOBSDSocket.Handle?
    private let bound: EventLoopPromise<SocketAddress>

    /// - Parameter listeningSocket: an already listening socket (systemd socket activation) to serve on
    ///   instead of binding `configuration.host:port`.
    public init(
        configuration: GatewayConfiguration,
        ingest: any MessageIngest,
        metrics: DaemonMetrics,
        group: MultiThreadedEventLoopGroup,
        logger: Logger,
        listeningSocket: NIOBSDSocket.Handle? = nil
    ) {
        let loops = Array(group.makeIterator())
        self.context = GatewayContext(
            configuration: configuration,
            ingest: ingest,
            metrics: metrics,
            eventLoops: loops,
            logger: logger
        )
        self.group = group
        self.logger = logger
        self.listeningSocket = listeningSocket
        self.bound = loops[0].makePromise(of: SocketAddress.self)
    }

    /// The listen backlog: connections the kernel completes and queues until the daemon accepts them —
    /// also while a restart hands the socket over and no process accepts. The socket unit's `Backlog=`.
    public static let backlog: Int32 = 4096

    /// Called when a graceful shutdown starts, with the longest it may take (systemd: STOPPING=1 and
    /// EXTEND_TIMEOUT_USEC). Set before `run()`.
    public var onDrainStarted: (@Sendable (Duration) -> Void)?

    /// Where delivery results for ack-mode connections go; pass to `ProducerThread.start(receiver:)`.
    public var deliveryReceiver: any DeliveryReceiver { self.context }

    /// The address actually bound (port 0 resolved), once listening.
    public func localAddress() async throws -> SocketAddress {
        try await self.bound.futureResult.get()
    }

    /// Connections currently open, for status and health.
    public var activeConnections: Int { self.context.connections.active }

    public func run() async throws {
        let channel: any Channel
        do {
            // A reload that came first (SIGHUP right at start) built its own access checks: keep those.
            let settings = self.context.settings
            self.context.replaceSettings(
                GatewaySettings(
                    configuration: settings.configuration,
                    access: try await AccessControl.make(settings.configuration.access),
                    limits: settings.limits
                ),
                ifStill: settings
            )
            channel = try await self.bind()
        } catch {
            self.bound.fail(error)
            throw error
        }
        guard let address = channel.localAddress else {
            // Only a closed channel has no address; nothing can be served on it.
            let error = ChannelError.ioOnClosedChannel
            self.bound.fail(error)
            throw error
        }
        self.bound.succeed(address)
        self.logger.info("listening", metadata: ["address": "\(address)"])

        // Wait for a graceful shutdown (SIGTERM/SIGINT) or cancellation.
        try? await gracefulShutdown()
        await self.shutDown(listener: channel)
    }

    /// What a reload did to the open connections.
    public struct ReloadEffect: Sendable {
        /// Connections closed with 1008 because their credential or chat is no longer allowed.
        public var closed = 0
    }

    /// Puts a reloaded configuration in force without touching the listener: handshakes from now on use
    /// its access checks and limits (the access checks are built first, so a key that fails to load
    /// changes nothing); each open connection is checked again on its own loop — closed with 1008 when its
    /// token was removed, no longer covers its chat, or its chat is no longer allowed — and the others
    /// take the new timeouts and rate. `configuration`'s listener address, drain timing and record-key
    /// policy are not applied (they need a restart).
    public func apply(_ configuration: GatewayConfiguration) async throws -> ReloadEffect {
        let access = try await AccessControl.make(configuration.access)
        let previous = self.context.settings
        let settings = GatewaySettings(
            configuration: configuration,
            access: access,
            limits: LimitsRuntime(configuration.limits, ingest: self.context.ingest, replacing: previous.limits)
        )
        self.context.replaceSettings(settings)
        var effect = ReloadEffect()
        for table in self.context.tables {
            effect.closed +=
                (try? await table.eventLoop.submit { () -> Int in
                    table.changeSweepInterval(settings.limits.sweepInterval)
                    var closed = 0
                    table.forEachConnection { if $0.settingsChanged(settings) { closed += 1 } }
                    return closed
                }.get()) ?? 0
        }
        return effect
    }

    private func bind() async throws -> any Channel {
        let context = self.context
        let bootstrap = ServerBootstrap(group: self.group)
            .serverChannelOption(.backlog, value: Self.backlog)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            // One read per readable event: a connection that fills its ring mid-burst would otherwise get the
            // rest of the burst's reads anyway (up to 16 × 64 KiB, held in memory while it waits). Measured at
            // 1000 connections and 1 KiB messages (2026-12-07): peak RSS 136–152 MiB instead of 393–404,
            // event-loop CPU 0.53–0.62 µs a message instead of 0.67–0.75, and no cell worse.
            .childChannelOption(.maxMessagesPerRead, value: 1)
            // Small first reads keep idle connections cheap; the allocator grows under load.
            .childChannelOption(
                .recvAllocator,
                value: AdaptiveRecvByteBufferAllocator(minimum: 256, initial: 2048, maximum: 65536)
            )
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try Self.configure(channel, context: context)
                }
            }
        if let socket = self.listeningSocket {
            // NIO calls listen(128) on a socket it is given, before the backlog option applies (swift-nio
            // 2.101, ServerSocketChannel.init(socket:)). listen() on a listening socket only sets the backlog
            // again, so the socket gets back the one it came with (the socket unit's Backlog=, 4096 for the
            // daemon's own) for the restarts it must bridge.
            let backlog = Self.listenBacklog(of: socket) ?? Self.backlog
            let channel = try await bootstrap.withBoundSocket(socket).get()
            _ = listen(socket, backlog)
            return channel
        }
        return try await bootstrap.bind(host: self.context.configuration.host, port: self.context.configuration.port)
            .get()
    }

    /// The backlog of a listening TCP socket: Linux reports it in `tcpi_sacked` for a listener (what
    /// `ss -lt` shows as Send-Q).
    static func listenBacklog(of socket: NIOBSDSocket.Handle) -> Int32? {
        var info = tcp_info()
        var length = socklen_t(MemoryLayout<tcp_info>.size)
        guard getsockopt(socket, Int32(IPPROTO_TCP), TCP_INFO, &info, &length) == 0, info.tcpi_sacked > 0 else {
            return nil
        }
        return Int32(clamping: info.tcpi_sacked)
    }

    private static func configure(_ channel: any Channel, context: GatewayContext) throws {
        let session = HandshakeSession()
        let httpHandler = HTTPRequestHandler(session: session, gateway: context)
        let upgrader = ChatWebSocketUpgrader(session: session, gateway: context)
        let boundHTTPHandler = NIOLoopBound(httpHandler, eventLoop: channel.eventLoop)
        // First in the pipeline, on raw bytes: slowloris connections are closed after limits.handshake_timeout_seconds.
        let handshakeTimeout = try context.installHandshakeTimeout(on: channel)
        let sync = channel.pipeline.syncOperations
        try sync.configureHTTPServerPipeline(
            withServerUpgrade: (
                upgraders: [upgrader],
                completionHandler: { upgradeContext in
                    // The HTTP handler must leave before the WebSocket handler sees raw bytes.
                    upgradeContext.pipeline.syncOperations.removeHandler(boundHTTPHandler.value, promise: nil)
                    if let handshakeTimeout {
                        upgradeContext.pipeline.syncOperations.removeHandler(handshakeTimeout.value, promise: nil)
                    }
                }
            ),
            withErrorHandling: true
        )
        try sync.addHandler(httpHandler)
        // A ring attached for an upgrade that never completed must be released.
        channel.closeFuture.whenComplete { _ in
            channel.eventLoop.execute {
                if let accepted = session.accepted {
                    session.accepted = nil
                    context.ingest.detach(accepted.buffer)
                }
            }
        }
    }

    // MARK: ordered shutdown

    private func shutDown(listener: any Channel) async {
        let started = ContinuousClock.now
        let deadline = started + self.context.configuration.drainTimeout
        // The listener first. Accepting stops before it closes: NIO closes (the client sees a reset) a
        // connection it accepted but whose setup on its event loop had not finished when the listener
        // closed (swift-nio 2.101, ServerBootstrap's AcceptHandler). One turn of every loop, then of the
        // listener's, finishes the setups already under way. close() then leaves the kernel socket to its
        // other holders (systemd's fd store or socket unit, a successor), whose backlog keeps the
        // connections that arrive from now on; NIO never calls shutdown(), which would end it for all.
        try? await listener.setOption(.autoRead, value: false).get()
        for loop in self.group.makeIterator() { try? await loop.submit {}.get() }
        try? await listener.eventLoop.submit {}.get()
        try? await listener.close()
        self.context.draining.store(true, ordering: .relaxed)
        self.onDrainStarted?(
            self.context.configuration.drainTimeout + self.context.configuration.closeTimeout + .seconds(5)
        )
        self.logger.notice("draining: no new connections, no further reads")

        await self.onEveryLoop { $0.beginDraining() }
        // A read requested before draining began can still deliver one more batch per connection.
        try? await Task.sleep(for: .milliseconds(100))

        // Messages already read but waiting for ring space (or acks) get pushed as the producer frees
        // space. Done once nothing is blocked on a few checks in a row; refused only at the deadline.
        var quietChecks = 0
        while ContinuousClock.now < deadline && quietChecks < 3 {
            quietChecks = await self.countOnEveryLoop({ $0.hasBlockedInput }) == 0 ? quietChecks + 1 : 0
            try? await Task.sleep(for: .milliseconds(20))
        }
        let refused = await self.countOnEveryLoop { $0.hasBlockedInput }
        if refused > 0 {
            self.logger.error(
                "shutdown deadline: refusing messages that were read but never fit a ring",
                metadata: ["connections": "\(refused)"]
            )
            await self.onEveryLoop { $0.refuseBlockedInput() }
        }

        let summary = await self.context.ingest.drain(deadline: deadline)
        let counters = self.context.counters.snapshot()
        if summary.completedInTime {
            self.logger.notice(
                "drained: every accepted message was delivered or reported",
                metadata: ["delivered": "\(counters.delivered)", "failed": "\(counters.failed)"]
            )
        } else {
            self.logger.error(
                "drain deadline passed: remaining messages failed and were reported",
                metadata: ["failedAtDeadline": "\(summary.failedAtDeadline)"]
            )
        }

        // Acks were handed to the loops before `drain` returned, so they are written before the close frames.
        await self.onEveryLoop { $0.closeForShutdown() }
        let closeDeadline = ContinuousClock.now + self.context.configuration.closeTimeout + .milliseconds(500)
        while self.context.connections.active > 0 && ContinuousClock.now < closeDeadline {
            try? await Task.sleep(for: .milliseconds(20))
        }
        self.logger.notice("gateway stopped", metadata: ["seconds": "\(ContinuousClock.now - started)"])
    }

    private func onEveryLoop(_ body: @escaping @Sendable (WebSocketConnectionHandler) -> Void) async {
        for table in self.context.tables {
            try? await table.eventLoop.submit { table.forEachConnection(body) }.get()
        }
    }

    private func countOnEveryLoop(_ predicate: @escaping @Sendable (WebSocketConnectionHandler) -> Bool) async -> Int {
        var total = 0
        for table in self.context.tables {
            total +=
                (try? await table.eventLoop.submit { () -> Int in
                    var count = 0
                    table.forEachConnection { if predicate($0) { count += 1 } }
                    return count
                }.get()) ?? 0
        }
        return total
    }
}
