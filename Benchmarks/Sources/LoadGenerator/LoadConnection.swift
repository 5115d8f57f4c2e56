import NIOCore

/// One WebSocket client connection, driven entirely by its event loop.
///
/// It upgrades with a hand-written GET (no HTTP codec in the pipeline), then writes prebuilt masked frames
/// in large buffers for as long as the channel is writable — NIO's writability is the backpressure: when
/// the daemon stops reading, the generator stops writing instead of queueing in its own memory. The
/// daemon's frames (acks, nacks, close) are parsed straight from the socket's buffers.
final class LoadConnection: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private enum State {
        case handshaking
        case open
        /// We sent our close frame and wait for the server's.
        case closing
        case closed
    }

    /// Batches written per turn before yielding the loop to other connections and to reads.
    private static let batchesPerTurn = 16
    /// Acks awaited per connection before it stops writing (4× the daemon's default cap of 4096), made
    /// smaller beyond 1024 connections so that all windows together stay at 16 Mi slots (128 MiB): 10 000
    /// connections get 1024 each, still far more than such a crowd has in flight per connection.
    private static func ackWindow(connections: Int) -> Int {
        var window = 16_384
        while window > 1024, window * connections > 16 << 20 { window /= 2 }
        return window
    }
    private static let handshakeTimeout = TimeAmount.seconds(15)
    private static let closeTimeout = TimeAmount.seconds(3)

    let index: Int
    private let plan: LoadPlan
    private let owner: LoopContext
    private let counters: LoadCounters
    private let ready: EventLoopPromise<Void>
    private var state = State.handshaking
    private var context: ChannelHandlerContext?
    private var handshakeBytes: ByteBuffer?
    /// Bytes of an incomplete server frame, kept until the rest arrives.
    private var pendingInput: ByteBuffer?
    private var timer: Scheduled<Void>?

    private var frames: FrameBatch?
    private let quota: Int
    private(set) var sent = 0
    private var start: UInt64 = 0
    private(set) var isSending = false
    private var finishedSending = false
    private var pumpScheduled = false
    private var windowFull = false
    private var timestamps: SendTimestamps?

    init(index: Int, plan: LoadPlan, owner: LoopContext, counters: LoadCounters, ready: EventLoopPromise<Void>) {
        self.index = index
        self.plan = plan
        self.owner = owner
        self.counters = counters
        self.ready = ready
        self.quota = plan.mode == .idle ? 0 : plan.quota(connection: index)
    }

    // MARK: Channel events

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
    }

    func channelActive(context: ChannelHandlerContext) {
        let endpoint = self.plan.target!
        let request =
            "GET \(self.plan.path(connection: self.index)) HTTP/1.1\r\nHost: \(endpoint)\r\n"
            + "Upgrade: websocket\r\nConnection: Upgrade\r\n"
            + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
        context.writeAndFlush(self.wrapOutboundOut(context.channel.allocator.buffer(string: request)), promise: nil)
        self.timer = context.eventLoop.assumeIsolated().scheduleTask(in: Self.handshakeTimeout) {
            self.fail(.handshake("no answer within \(Self.handshakeTimeout)"))
        }
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var buffer = self.unwrapInboundIn(data)
        switch self.state {
        case .handshaking:
            self.readHandshake(&buffer)
        case .open, .closing:
            self.readFrames(&buffer)
        case .closed:
            break
        }
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable { self.pump() }
        context.fireChannelWritabilityChanged()
    }

    func channelInactive(context: ChannelHandlerContext) {
        switch self.state {
        case .handshaking:
            self.ready.fail(LoadGeneratorError.closedDuringHandshake)
        case .open:
            // Dropped without a close frame: a failure of this connection.
            self.counters.errors.wrappingIncrement(ordering: .relaxed)
            self.counters.open.wrappingDecrement(ordering: .relaxed)
        case .closing:
            self.counters.open.wrappingDecrement(ordering: .relaxed)
        case .closed:
            break
        }
        self.state = .closed
        self.timer?.cancel()
        self.finishSending()
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }

    // MARK: Upgrade

    private func readHandshake(_ buffer: inout ByteBuffer) {
        if self.handshakeBytes == nil {
            self.handshakeBytes = buffer
        } else {
            self.handshakeBytes!.writeBuffer(&buffer)
        }
        guard let end = Self.headerEnd(in: self.handshakeBytes!) else {
            if self.handshakeBytes!.readableBytes > 16_384 { self.fail(.handshake("response header too large")) }
            return
        }
        var response = self.handshakeBytes!
        self.handshakeBytes = nil
        let header = response.readString(length: end)!
        let statusLine = header.prefix { $0 != "\r" }
        guard statusLine.hasPrefix("HTTP/1.1 101") else {
            self.fail(.handshake(String(statusLine)))
            return
        }
        self.timer?.cancel()
        self.timer = nil
        self.state = .open
        self.counters.established.wrappingIncrement(ordering: .relaxed)
        self.counters.open.wrappingIncrement(ordering: .relaxed)
        if self.quota > 0 {
            self.frames = FrameBatch(
                message: MessageTemplate(
                    connection: self.index,
                    size: self.plan.size,
                    connections: self.plan.connections,
                    withID: self.plan.messageIDs
                ),
                capacity: self.plan.framesPerWrite
            )
            if self.plan.acks {
                self.timestamps = SendTimestamps(capacity: Self.ackWindow(connections: self.plan.connections))
            }
        }
        self.owner.register(self)
        self.ready.succeed()
        if response.readableBytes > 0 { self.readFrames(&response) }
    }

    /// Length of the header including the blank line, once `\r\n\r\n` has arrived.
    private static func headerEnd(in buffer: ByteBuffer) -> Int? {
        buffer.withUnsafeReadableBytes { bytes in
            guard bytes.count >= 4 else { return nil }
            for index in 3..<bytes.count
            where bytes[index] == 10 && bytes[index - 1] == 13 && bytes[index - 2] == 10 && bytes[index - 3] == 13 {
                return index + 1
            }
            return nil
        }
    }

    private func fail(_ error: LoadGeneratorError) {
        guard self.state == .handshaking else { return }
        self.state = .closed
        self.timer?.cancel()
        self.ready.fail(error)
        self.context?.close(promise: nil)
    }

    // MARK: Server frames

    private func readFrames(_ input: inout ByteBuffer) {
        var buffer: ByteBuffer
        if var pending = self.pendingInput {
            self.pendingInput = nil
            pending.writeBuffer(&input)
            buffer = pending
        } else {
            buffer = input
        }
        var acked = 0
        var nacked = 0
        var now: UInt64 = 0
        do {
            while let frame = try ServerFrameReader.next(from: &buffer) {
                switch frame {
                case .ack(let id):
                    acked += 1
                    if let sentAt = self.timestamps?.take(id) {
                        if now == 0 { now = MonotonicClock.now() }
                        self.owner.recordLatency(nanoseconds: now > sentAt ? now - sentAt : 0)
                    }
                case .nack(let id):
                    nacked += 1
                    _ = self.timestamps?.take(id)
                case .rejected:
                    nacked += 1
                case .close(let code):
                    self.owner.closeCodes[code, default: 0] += 1
                    self.serverClosed(code: code)
                case .ping(let payload):
                    self.writeControl(opcode: 0xA, payload: Array(payload.readableBytesView))
                case .otherText, .other:
                    break
                }
            }
        } catch {
            // Counted as a failed connection when the channel goes inactive in the open state.
            self.forceClose()
            return
        }
        if buffer.readableBytes > 0 {
            buffer.discardReadBytes()
            self.pendingInput = buffer
        }
        if acked > 0 { self.counters.acked.wrappingIncrement(by: acked, ordering: .relaxed) }
        if nacked > 0 { self.counters.nacked.wrappingIncrement(by: nacked, ordering: .relaxed) }
        if self.windowFull, (self.timestamps?.free ?? 0) > 0 {
            self.windowFull = false
            self.pump()
        }
    }

    private func serverClosed(code: UInt16) {
        guard let context = self.context else { return }
        if self.state == .closing {
            context.close(promise: nil)
            return
        }
        // The server ended the connection before we did (shutdown 1001, a protocol error, …): echo its close
        // as RFC 6455 asks, and count the connection as failed.
        self.counters.errors.wrappingIncrement(ordering: .relaxed)
        self.counters.open.wrappingDecrement(ordering: .relaxed)
        self.state = .closed
        self.finishSending()
        let echo = FrameBatch.closeFrame(code: code == 1005 ? 1000 : code, allocator: context.channel.allocator)
        context.writeAndFlush(self.wrapOutboundOut(echo)).assumeIsolated().whenComplete { _ in
            context.close(promise: nil)
        }
    }

    private func writeControl(opcode: UInt8, payload: [UInt8]) {
        guard let context = self.context, self.state == .open else { return }
        let frame = FrameBatch.controlFrame(opcode: opcode, payload: payload, allocator: context.channel.allocator)
        context.writeAndFlush(self.wrapOutboundOut(frame), promise: nil)
    }

    // MARK: Sending

    /// Called on the loop at the common start instant.
    func startSending(at start: UInt64) {
        self.start = start
        guard self.state == .open, self.quota > 0 else {
            self.finishSending()
            return
        }
        self.isSending = true
        if self.plan.rate == 0 { self.pump() }
    }

    /// Writes what may be written now: everything (unlimited rate) or what is due (`--rate`), in batches
    /// of up to `--frames-per-write` frames, one write and flush each, while the channel is writable.
    ///
    /// `finalAt` (the end of a `--duration` run at a rate) releases everything due before that instant,
    /// so a run sends rate × duration messages even though the last tick and the end timer race.
    func pump(finalAt: UInt64? = nil) {
        guard self.isSending, let context = self.context, let frames = self.frames else { return }
        var now = finalAt.map { $0 - 1 } ?? MonotonicClock.now()
        var ending = finalAt != nil
        if let end = self.plan.endTime(start: self.start), now >= end {
            guard self.plan.rate > 0 else {
                self.finishSending()
                return
            }
            now = end - 1
            ending = true
        }
        var target = self.quota
        if self.plan.rate > 0 {
            target = min(target, self.plan.dueCount(connection: self.index, start: self.start, now: now))
        }
        var batches = 0
        while self.sent < target, context.channel.isWritable {
            if batches == Self.batchesPerTurn {
                self.schedulePump()
                return
            }
            var count = min(frames.capacity, target - self.sent)
            if let free = self.timestamps?.free {
                count = min(count, free)
                if count == 0 {
                    self.windowFull = true
                    break
                }
            }
            var buffer = context.channel.allocator.buffer(capacity: count * frames.frameLength)
            frames.write(count: count, firstSequence: self.sent + 1, into: &buffer)
            if self.timestamps != nil {
                // Latency runs from the intended send time at a rate (no coordinated omission), else from now.
                let (plan, index, start, first) = (self.plan, self.index, self.start, self.sent)
                self.timestamps!.append(count: count) { offset in
                    plan.rate > 0 ? plan.intendedTime(connection: index, sequence: first + offset, start: start) : now
                }
            }
            self.sent += count
            self.counters.sent.wrappingIncrement(by: count, ordering: .relaxed)
            context.writeAndFlush(self.wrapOutboundOut(buffer), promise: nil)
            batches += 1
        }
        if ending || self.sent >= self.quota { self.finishSending() }
    }

    private func schedulePump() {
        guard !self.pumpScheduled, let context = self.context else { return }
        self.pumpScheduled = true
        context.eventLoop.assumeIsolated().execute {
            self.pumpScheduled = false
            self.pump()
        }
    }

    /// No more messages from this connection; records when its last bytes reached the kernel.
    func finishSending() {
        guard !self.finishedSending else { return }
        self.finishedSending = true
        self.isSending = false
        guard self.state == .open, let context = self.context else {
            self.counters.markSendDone(at: MonotonicClock.now())
            return
        }
        // Writes complete in order: an empty write completes once everything before it was written.
        let counters = self.counters
        context.writeAndFlush(self.wrapOutboundOut(context.channel.allocator.buffer(capacity: 0))).whenComplete { _ in
            counters.markSendDone(at: MonotonicClock.now())
        }
    }

    // MARK: Closing

    /// Sends a close frame (1000) and waits for the server's before closing the TCP connection.
    func close() {
        guard self.state == .open, let context = self.context else { return }
        self.finishSending()
        self.state = .closing
        context.writeAndFlush(
            self.wrapOutboundOut(FrameBatch.closeFrame(code: 1000, allocator: context.channel.allocator)),
            promise: nil
        )
        self.timer = context.eventLoop.assumeIsolated().scheduleTask(in: Self.closeTimeout) {
            context.close(promise: nil)
        }
    }

    func forceClose() {
        guard self.state != .closed else { return }
        self.context?.close(promise: nil)
    }
}
