import Access
import ChatContract
import Foundation
import Logging
import Monitoring
import NIOCore
import NIOEmbedded
import TestSupport

@testable import Gateway
@testable import Ingest

/// One `WebSocketConnectionHandler` in an `EmbeddedChannel`, on a gateway with a `FakeIngest`: frames go
/// in as bytes, the ring is read back directly, the server's frames come out parsed.
final class ConnectionUnderTest {
    let loop = EmbeddedEventLoop()
    let channel: EmbeddedChannel
    let ingest: FakeIngest
    let gateway: GatewayContext
    let buffer: TopicBuffer
    let handler: WebSocketConnectionHandler
    let readCounter = ReadCounter()

    init(
        acks: Bool = false,
        ringCapacityBytes: Int = 4096,
        configuration: GatewayConfiguration = GatewayConfiguration(),
        grant: AccessGrant? = nil,
        chat: String = "room",
        draining: Bool = false
    ) throws {
        self.ingest = try FakeIngest(ringCapacityBytes: ringCapacityBytes)
        let metrics = DaemonMetrics(
            configuration: .init(ringBudgetBytes: 1 << 24, readinessHighWater: 0.9),
            ingest: self.ingest.counters,
            rings: self.ingest.registry,
            eventLoopCount: 1
        )
        self.gateway = GatewayContext(
            configuration: configuration,
            ingest: self.ingest,
            metrics: metrics,
            eventLoops: [self.loop],
            logger: Logger(label: "gateway-tests")
        )
        // A connection upgraded while the gateway drains.
        if draining { self.gateway.draining.store(true, ordering: .relaxed) }
        self.buffer = try self.ingest.attach(to: TopicName.forChat(chat[...]))
        self.handler = WebSocketConnectionHandler(
            target: WebSocketTarget(
                topic: self.buffer.topic,
                wantsAcks: acks,
                grant: grant
            ),
            buffer: self.buffer,
            gateway: self.gateway,
            eventLoop: self.loop
        )
        self.channel = EmbeddedChannel(loop: self.loop)
        try self.channel.pipeline.syncOperations.addHandler(self.readCounter)
        try self.channel.pipeline.syncOperations.addHandler(self.handler)
        try self.channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 1)).wait()
    }

    deinit {
        _ = try? self.channel.finish(acceptAlreadyClosed: true)
    }

    var connections: ConnectionCounters { self.gateway.connections }
    var counters: IngestCounters.Snapshot { self.ingest.counters.snapshot() }
    var reads: Int { self.readCounter.reads }
    var isOpen: Bool { self.channel.isActive }

    /// The bytes of `frames`, delivered as one read.
    func send(_ frames: [UInt8]...) throws {
        var bytes = self.channel.allocator.buffer(capacity: 0)
        for frame in frames { bytes.writeBytes(frame) }
        try self.channel.writeInbound(bytes)
    }

    func sendText(_ text: String) throws {
        try self.send(ClientFrameEncoder.text(text))
    }

    /// A `read()` from the pipeline's tail, as the channel asks for one; true when the handler passed it on.
    func read() -> Bool {
        let before = self.reads
        self.channel.read()
        return self.reads > before
    }

    /// The frames the server wrote since the last call.
    func written() throws -> [ServerFrame] {
        var frames: [ServerFrame] = []
        while let buffer = try self.channel.readOutbound(as: ByteBuffer.self) {
            guard let parsed = ServerFrame.parse(buffer) else {
                throw ParseError(bytes: Array(buffer.readableBytesView))
            }
            frames += parsed
        }
        return frames
    }

    struct ParseError: Error {
        var bytes: [UInt8]
    }

    /// What the ring holds, consumed as the producer thread would; `wake` then tells waiting connections.
    func drainRing(wake: Bool = false) -> [(record: String, ticket: MessageTicket, tag: UInt32)] {
        var records: [(String, MessageTicket, UInt32)] = []
        _ = self.buffer.ring.drain(maxRecords: .max) { record in
            records.append(
                (String(decoding: record.payload, as: UTF8.self), MessageTicket(rawValue: record.opaque), record.tag)
            )
            return true
        }
        if wake {
            self.buffer.wakeWaiters()
            self.loop.run()
        }
        return records
    }

    /// Fills the ring so that no message fits any more.
    func fillRing() {
        for size in [1000, 100, 8, 0] {
            while self.buffer.ring.push(payloadCount: size, opaque: 0, tag: 0, fill: { _ in }) == .pushed {}
        }
    }

    /// Delivery results for `tickets`, as the producer thread hands them to the loop's table.
    func deliver(_ results: [DeliveryResult]) {
        self.gateway.table(for: self.loop).deliver(results)
    }

    func closes(_ reason: ServerCloseReason) -> Int {
        self.connections.closes().first { $0.reason == reason }?.count ?? 0
    }
}
