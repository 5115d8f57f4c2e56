import Access
import Atomics
import ChatContract
import Ingest
import Logging
import Monitoring
import NIOCore
import WebSocketProtocol

/// One upgraded WebSocket connection: frames → chat messages → its topic ring, and acks back.
///
/// Everything per message happens here, on the connection's event loop: frame parsing on the socket's own
/// bytes, one validation pass, one copy into the ring. Backpressure is "stop reading": while the ring is
/// full (or too many acks are outstanding, or the socket cannot take our replies) no `read()` is passed
/// on, the kernel's receive buffer fills and the client feels TCP backpressure. The message that did not
/// fit stays in `input` (or in the reader, when it was fragmented) and is offered again when the producer
/// thread reports free space.
///
/// This class is the glue: the decisions (pauses, admission, rate limit, liveness, acks, close handshake)
/// are `ConnectionStateMachine`'s, the reply bytes `ChatReplyEncoder`'s; here NIO events go in and the
/// machine's actions are carried out (read, write and flush, timers, close).
final class WebSocketConnectionHandler: ChannelDuplexHandler, RingSpaceWaiter, @unchecked Sendable {
    // @unchecked Sendable: loop-bound. NIO calls a handler only on its channel's event loop; the one call
    // from another thread, `ringHasSpace()` (producer thread), only hops onto that loop with `execute`.
    typealias InboundIn = ByteBuffer
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let buffer: TopicBuffer
    private let gateway: GatewayContext
    private let eventLoop: any EventLoop
    private let table: LoopConnectionTable
    /// The chat and credential, checked again when a reload changes the settings.
    private let target: WebSocketTarget

    private var machine: ConnectionStateMachine
    private let intake: ChatMessageIntake
    /// This connection's slot and generation in its loop's table (for the tickets of its messages).
    private var place: (slot: Int, generation: UInt32) = (-1, 0)
    private var context: ChannelHandlerContext?
    private var reader: WebSocketFrameReader
    /// Bytes read but not yet parsed (a partial frame, or messages waiting for ring space).
    private var input: ByteBuffer?
    /// Reads that came while `input` still held bytes (processing paused, or a frame cut by the read before),
    /// kept as they came: appending them to `input` copied every byte and, with many paused connections,
    /// grew buffers whose fresh pages cost a quarter of the event loops' time at 1 KiB messages.
    private var laterReads = CircularBuffer<ByteBuffer>()
    private var output = ConnectionOutput()
    private var closeTimer: Scheduled<Void>?
    private var rateTimer: Scheduled<Void>?

    init(target: WebSocketTarget, buffer: TopicBuffer, gateway: GatewayContext, eventLoop: any EventLoop) {
        self.buffer = buffer
        self.gateway = gateway
        self.eventLoop = eventLoop
        self.table = gateway.table(for: eventLoop)
        self.target = target
        let settings = gateway.settings
        self.intake = ChatMessageIntake(target: target, buffer: buffer, gateway: gateway, route: self.table.route)
        self.machine = ConnectionStateMachine(
            target: target,
            configuration: settings.configuration,
            limits: settings.limits,
            now: MonotonicClock.nanoseconds()
        )
        self.reader = WebSocketFrameReader(
            maxMessageBytes: settings.configuration.maxMessageBytes,
            maxFragments: settings.configuration.maxFragments,
            validatesTextUTF8: false  // the message contract checks UTF-8 in its own pass
        )
    }

    // MARK: lifecycle

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        self.output = ConnectionOutput(allocator: context.channel.allocator)
        self.place = self.table.register(self, expires: self.machine.credentialExpires)
        self.gateway.connections.opened()
        let draining = self.gateway.draining.load(ordering: .relaxed)
        self.intake.updatePausedGauge(self.machine.added(draining: draining))
        if draining {
            // Upgraded during the drain (only with `listenerOutlivesProcess`): going away at once, so the
            // client reconnects to the next process. After the upgrade handler has finished its work.
            context.eventLoop.assumeIsolated().execute { self.closePolitely(.shuttingDown) }
        }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.cleanUp()
        self.context = nil
    }

    func channelInactive(context: ChannelHandlerContext) {
        self.cleanUp()
        context.fireChannelInactive()
    }

    private func cleanUp() {
        guard case .cleanUp(let removeWaiter, let gauge) = self.machine.cleanUp() else { return }
        self.closeTimer?.cancel()
        self.rateTimer?.cancel()
        self.table.unregister(slot: self.place.slot)
        if removeWaiter { self.buffer.removeWaiter(self) }
        self.gateway.ingest.detach(self.buffer)
        self.gateway.connections.closed()
        self.intake.updatePausedGauge(gauge)
        self.input = nil
        self.laterReads.removeAll()
    }

    // MARK: NIO events

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch self.machine.bytesArrived() {
        case .discard: return
        case .process: break
        case .refillRateThenProcess: self.machine.refillRate(now: MonotonicClock.nanoseconds())
        }
        // Nothing is read after a close frame or a violation.
        guard !self.reader.hasFinished else { return }
        let incoming = self.unwrapInboundIn(data)
        if self.input == nil && self.laterReads.isEmpty {
            self.input = incoming
        } else {
            self.laterReads.append(incoming)
        }
        self.processInput()
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        self.flush()
        context.fireChannelReadComplete()
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable {
            self.resume(self.machine.becameWritable())
        } else {
            self.intake.updatePausedGauge(self.machine.becameUnwritable())
        }
        context.fireChannelWritabilityChanged()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)  // socket errors (reset by peer…) end this connection only
    }

    func read(context: ChannelHandlerContext) {
        if self.machine.readRequested() { context.read() }
    }

    func ringHasSpace() {
        self.eventLoop.execute { self.resume(self.machine.ringHasSpace()) }
    }

    /// Run by the loop's sweep (`LoopConnectionTable`): ping, idle and overload closes.
    func sweep(now: UInt64) {
        switch self.machine.sweep(now: now) {
        case .nothing: break
        case .ping: self.ping()
        case .close(let cause): self.closePolitely(cause)
        case .pingThenClose(let cause):
            self.ping()
            self.closePolitely(cause)
        }
    }

    // MARK: frames → messages

    /// Parses and handles every complete frame in `input` and then in `laterReads`, unless processing is
    /// paused.
    private func processInput() {
        while self.machine.mayProcess {
            // A fragmented message that got `retryLater` waits in the reader, not in `input`: read even without
            // new bytes, or it would wait for the client's next frame (and vanish unreported at shutdown).
            guard var bytes = self.input ?? (self.reader.holdsPausedMessage ? ByteBuffer() : self.laterReads.popFirst())
            else { return }
            self.input = nil
            let outcome = self.reader.read(&bytes) { event in self.handle(event) }
            if bytes.readableBytes > 0 {
                if outcome == .needMoreBytes {
                    self.input = self.keepCutFrame(&bytes)
                } else {
                    if bytes.readerIndex >= 16 * 1024 { bytes.discardReadBytes() }
                    self.input = bytes
                }
            }
            if case .violation(let code, let reason) = outcome {
                return self.fail(code: code, reason: reason)
            }
            switch self.machine.readFinished() {
            case .none: break
            case .failInvalidText:
                return self.fail(code: .invalidFramePayloadData, reason: "text message is not valid UTF-8")
            case .closeForRate: return self.closePolitely(.rateLimited)
            }
            guard outcome == .needMoreBytes, !self.laterReads.isEmpty else { return }
            if self.input != nil { self.completeCutFrame() }
        }
    }

    /// A read ended inside a frame (`input` holds its start, in a buffer of its own: see `keepCutFrame`) and
    /// more reads wait. Moves only the bytes that frame lacks from them into `input`; what is left of a
    /// read stays where it lies, first in line. A read of 1 KiB frames nearly always ends inside one, and
    /// appending every read to the remainder of the last one would copy every byte once more.
    private func completeCutFrame() {
        var frame = self.input!
        self.input = nil  // `frame` is the only reference: writing to it copies nothing else
        var missing = self.reader.missingByteCount(ofFrameStartingIn: frame)
        while missing > 0, var next = self.laterReads.popFirst() {
            var piece = next.readSlice(length: min(missing, next.readableBytes))!
            frame.writeBuffer(&piece)
            if next.readableBytes > 0 { self.laterReads.prepend(next) }
            missing = self.reader.missingByteCount(ofFrameStartingIn: frame)
        }
        self.input = frame
    }

    /// The start of a frame the read ended inside, moved into a buffer of its own with room for the rest.
    /// Keeping it as a slice would keep the whole receive buffer (up to 64 KiB) alive until the next read,
    /// which then needs a fresh one: with many connections, freshly faulted-in pages were a quarter of the
    /// event loops' time at 1 KiB messages. The copy is less than one frame.
    private func keepCutFrame(_ bytes: inout ByteBuffer) -> ByteBuffer {
        let missing = self.reader.missingByteCount(ofFrameStartingIn: bytes)
        var own = ByteBufferAllocator().buffer(capacity: bytes.readableBytes &+ missing)
        own.writeBuffer(&bytes)
        return own
    }

    private func handle(_ event: WebSocketEvent) -> WebSocketEventDisposition {
        switch event {
        case .text(let payload):
            guard self.machine.acceptsData else { return .consumed }  // after our close frame (RFC 6455 §5.5.1)
            guard self.admitByRate(bytes: payload.count) else { return .retryLater }
            let disposition = self.intake.text(
                payload,
                place: self.place,
                machine: &self.machine,
                output: &self.output,
                waiter: self
            )
            if disposition == .retryLater { self.machine.giveBackRate(bytes: payload.count) }
            return disposition
        case .binary(let payload):
            guard self.machine.acceptsData else { return .consumed }
            guard self.admitByRate(bytes: payload.count) else { return .retryLater }
            self.intake.binary(payload, output: &self.output)
            return .consumed
        case .ping(let payload):
            if self.machine.acceptsData { self.output.pong(payload) }
            return .consumed
        case .pong:
            return .consumed
        case .close(let code, _):
            self.peerClosed(code: code)
            return .consumed
        }
    }

    /// The clock is read only when the buckets look empty (`ConnectionStateMachine.rateExhausted`).
    @inline(__always)
    private func admitByRate(bytes count: Int) -> Bool {
        if self.machine.admitByRate(bytes: count) { return true }
        switch self.machine.rateExhausted(bytes: count, now: MonotonicClock.nanoseconds()) {
        case .admit:
            return true
        case .closeAfterRead:
            return false
        case .pause(let wait):
            self.gateway.connections.rateLimitPaused()
            self.rateTimer = self.eventLoop.assumeIsolated().scheduleTask(in: .nanoseconds(Int64(wait))) {
                self.rateTimer = nil
                self.resume(self.machine.rateTimerFired(now: MonotonicClock.nanoseconds()))
            }
            return false
        }
    }

    // MARK: acknowledgements (called on this loop by `LoopConnectionTable`)

    /// Writes the ack or nack for one delivery report; returns true when something was written.
    func acknowledge(_ report: DeliveryResult, sequence: UInt32) -> Bool {
        guard let pending = self.machine.acknowledge(sequence: sequence) else { return false }
        self.table.ackLatency.record(nanoseconds: MonotonicClock.nanoseconds() &- pending.acceptedAt)
        self.output.reply(to: report, id: pending.id)
        return true
    }

    func flushAcknowledgements() {
        self.flush()
        self.resume(self.machine.acknowledgementsFlushed())
    }

    // MARK: shutdown (called on this loop by the gateway)

    /// Stops reading; what was already read is still handled.
    func beginDraining() {
        self.intake.updatePausedGauge(self.machine.beginDraining())
    }

    /// True while complete messages already read wait for ring space or for acks.
    var hasBlockedInput: Bool {
        self.machine.isBlocked
            && ((self.input?.readableBytes ?? 0) > 0 || !self.laterReads.isEmpty || self.reader.holdsPausedMessage)
    }

    /// Shutdown deadline: messages read but never accepted are refused (nacked to ack-mode clients,
    /// counted and logged), instead of vanishing.
    func refuseBlockedInput() {
        guard self.hasBlockedInput else { return }
        self.intake.updatePausedGauge(self.machine.refuseBlockedInput())
        self.processInput()
        self.flush()
    }

    /// A reload put `settings` in force: closes the connection with 1008 when its credential or its chat is no
    /// longer allowed (true then), otherwise takes the new timeouts and rate. The message size, fragment
    /// and ack-window limits stay as they were when the connection opened.
    func settingsChanged(_ settings: GatewaySettings) -> Bool {
        guard self.machine.state == .open else { return false }
        if let refusal = settings.access.recheck(self.target.grant, chat: String(self.target.chat)) {
            self.closePolitely(.credentialRevoked(refusal.message))
            return true
        }
        if settings.limits.limits.chats.refusal(for: self.target.topic) != nil {
            self.closePolitely(.chatNotAllowed)
            return true
        }
        let now = MonotonicClock.nanoseconds()
        self.machine.reconfigure(
            timeouts: settings.limits.timeouts,
            rateLimit: ConnectionRateLimit(settings.limits.limits, now: now)
        )
        return false
    }

    /// Acks were delivered; say goodbye with 1001 and wait briefly for the client's close frame.
    func closeForShutdown() {
        self.closePolitely(.shuttingDown)
    }

    // MARK: actions

    private func resume(_ action: ConnectionStateMachine.ResumeAction) {
        guard case .resume(let gauge) = action else { return }
        self.intake.updatePausedGauge(gauge)
        self.processInput()
        self.flush()
        if let context = self.context, self.machine.takeRequestedRead() { context.read() }
    }

    private func ping() {
        self.output.ping()
        self.flush()
    }

    /// Our close frame, then the client's awaited (at most the close timeout) while its data is read and
    /// discarded. Messages read but never accepted are discarded; the close code tells the client so.
    private func closePolitely(_ cause: PoliteCloseCause) {
        guard let context = self.context, case .close(_, let gauge) = self.machine.closePolitely(cause) else { return }
        let settings = self.gateway.settings
        let close = cause.closeFrame(settings.limits.limits)
        self.gateway.connections.closedByServer(close.counted)
        if cause.endsAccess { self.logAccessEnded(close.reason) }
        self.rateTimer?.cancel()
        self.output.close(code: close.code, reason: close.reason)
        self.flush()
        self.closeTimer = context.eventLoop.assumeIsolated().scheduleTask(
            in: .init(settings.configuration.closeTimeout)
        ) {
            context.close(promise: nil)
        }
        self.intake.updatePausedGauge(gauge)  // keep reading so the client's close frame is seen
        if cause.handlesReadInput { self.processInput() }
        if self.machine.state != .closed, self.machine.takeRequestedRead() { context.read() }
    }

    /// One line per connection whose access ended (token expired or revoked, chat no longer allowed): what an
    /// audit of who could write where needs, with the token's fingerprint, never the token.
    private func logAccessEnded(_ reason: String) {
        var metadata: Logger.Metadata = ["chat": "\(self.target.chat)", "reason": "\(reason)"]
        if let grant = self.target.grant {
            metadata["credential"] = "\(grant.kind.rawValue) \(grant.fingerprint)"
            if let subject = grant.subject { metadata["subject"] = "\(subject)" }
        }
        self.gateway.logger.notice("websocket closed with 1008: access ended", metadata: metadata)
    }

    /// A protocol violation: tell the client why, then close the TCP connection.
    private func fail(code: WebSocketCloseCode, reason: String) {
        guard let context = self.context else { return }
        self.input = nil
        self.laterReads.removeAll()
        if self.machine.failed() {
            self.gateway.connections.closedByServer(ServerCloseReason(violation: code))
            self.output.close(code: code, reason: reason)
        }
        self.flushThenClose(context)
    }

    private func peerClosed(code: WebSocketCloseCode?) {
        guard let context = self.context else { return }
        if self.machine.peerClosed() { self.output.echoClose(code: code) }
        self.closeTimer?.cancel()
        self.flushThenClose(context)
    }

    // MARK: writing (never inside an access to `output`: a write can re-enter this handler)

    private func flush() {
        guard let context = self.context, let bytes = self.output.take() else { return }
        context.writeAndFlush(self.wrapOutboundOut(bytes), promise: nil)
    }

    /// Writes and flushes what was gathered (maybe nothing), then closes the channel once it is written.
    private func flushThenClose(_ context: ChannelHandlerContext) {
        let bytes = self.output.take() ?? context.channel.allocator.buffer(capacity: 0)
        context.writeAndFlush(self.wrapOutboundOut(bytes)).assumeIsolated().whenComplete { _ in
            context.close(promise: nil)
        }
    }
}
