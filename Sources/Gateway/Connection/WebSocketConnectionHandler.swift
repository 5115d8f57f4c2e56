import Atomics
import ChatContract
import Ingest
import Monitoring
import NIOCore
import WebSocketProtocol

/// One upgraded WebSocket connection: frames → chat messages → its topic ring, and acks back.
///
/// Everything per message happens here, on the connection's event loop: frame parsing on the socket's own
/// bytes, one validation pass, one copy into the ring. Backpressure is "stop reading": while the ring is
/// full (or too many acks are outstanding, or the socket cannot take our replies) no `read()` is passed
/// on, the kernel's receive buffer fills and the client feels TCP backpressure. The message that did not
/// fit stays in `input` and is offered again when the producer thread reports free space.
final class WebSocketConnectionHandler: ChannelDuplexHandler, RingSpaceWaiter, @unchecked Sendable {
    typealias InboundIn = ByteBuffer
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    /// Why reading is paused; any reason pauses reading, those in `blocksProcessing` also pause processing.
    struct PauseReasons: OptionSet {
        let rawValue: UInt8
        static let ringFull = PauseReasons(rawValue: 1)
        static let acksInFlight = PauseReasons(rawValue: 2)
        static let unwritable = PauseReasons(rawValue: 4)
        static let draining = PauseReasons(rawValue: 8)
        /// Over `limits.messages_per_second`/`bytes_per_second`; a scheduled task resumes it. Not part of
        /// `backpressure`: it is the client's doing, not Kafka's, and must not page anyone.
        static let rateLimited = PauseReasons(rawValue: 16)
        static let blocksProcessing: PauseReasons = [.ringFull, .acksInFlight, .rateLimited]
        static let backpressure: PauseReasons = [.ringFull, .acksInFlight, .unwritable]
        /// Waiting for Kafka: what `limits.overload_close_seconds` measures.
        static let kafkaBlocked: PauseReasons = [.ringFull, .acksInFlight]
    }

    enum State {
        case open
        /// We sent a close frame and wait for the client's.
        case closeSent
        case closed
    }

    private let target: WebSocketTarget
    private let buffer: TopicBuffer
    private let gateway: GatewayContext
    private let eventLoop: any EventLoop
    private let table: LoopConnectionTable
    private let counters: IngestCounters

    private var context: ChannelHandlerContext?
    private var reader: WebSocketFrameReader
    /// Bytes read but not yet parsed (a partial frame, or messages waiting for ring space).
    private var input: ByteBuffer?
    /// Replies gathered during one read burst or ack batch, written with one flush.
    private var output: ByteBuffer?
    /// Reused to build a JSON reply before framing it.
    private var scratch = ByteBuffer()
    private var paused: PauseReasons = [] {
        didSet {
            // The paused-connections gauge follows backpressure only (not the shutdown's stop of reads).
            let was = !oldValue.isDisjoint(with: .backpressure)
            let isNow = !self.paused.isDisjoint(with: .backpressure)
            if was != isNow { self.gateway.connections.setPaused(isNow) }
        }
    }
    private var readRequested = false
    private var state = State.open
    private var pendingViolation: (code: WebSocketCloseCode, reason: String)?
    /// While shutting down: buffered messages that could not be accepted in time are refused.
    private var refusingInput = false

    private var slot = -1
    private var generation: UInt32 = 0
    private var sequence: UInt32 = 0
    private var messageNumber: UInt64 = 0
    private var pendingAcks: [UInt32: PendingAck] = [:]
    private var registeredForSpace = false
    private var cleanedUp = false
    private var closeTimer: Scheduled<Void>?

    // Limits (`GatewayLimits`); the per-loop sweep drives the timeouts, so no timer per connection.
    private let limits: LimitsRuntime
    /// nil when no rate is set: the per-message check is then one nil test.
    private var rateLimit: ConnectionRateLimit?
    private var rateTimer: Scheduled<Void>?
    private var rateViolationPending = false
    /// Bytes arrived since the last sweep (set per read, not per message; no clock read).
    private var heardFrom = false
    private var lastHeardAt: UInt64
    private var lastPingAt: UInt64 = 0
    /// When a sweep first found the connection blocked by Kafka without progress; 0 when it is not.
    private var blockedSince: UInt64 = 0
    private var sequenceAtSweep: UInt32 = 0

    init(target: WebSocketTarget, buffer: TopicBuffer, gateway: GatewayContext, eventLoop: any EventLoop) {
        self.target = target
        self.buffer = buffer
        self.gateway = gateway
        self.eventLoop = eventLoop
        self.table = gateway.table(for: eventLoop)
        self.counters = gateway.counters
        self.limits = gateway.limitsRuntime
        let now = MonotonicClock.nanoseconds()
        self.lastHeardAt = now
        self.rateLimit = ConnectionRateLimit(gateway.limitsRuntime.limits, now: now)
        self.reader = WebSocketFrameReader(
            maxMessageBytes: gateway.configuration.maxMessageBytes,
            maxFragments: gateway.configuration.maxFragments,
            validatesTextUTF8: false  // the message contract checks UTF-8 in its own single pass
        )
    }

    // MARK: lifecycle

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        (self.slot, self.generation) = self.table.register(self)
        self.gateway.connections.opened()
        if self.gateway.draining.load(ordering: .relaxed) { self.paused.insert(.draining) }
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
        guard !self.cleanedUp else { return }
        self.cleanedUp = true
        self.state = .closed
        self.closeTimer?.cancel()
        self.rateTimer?.cancel()
        self.table.unregister(slot: self.slot)
        if self.registeredForSpace { self.buffer.removeWaiter(self) }
        self.gateway.ingest.detach(self.buffer)
        self.gateway.connections.closed()
        self.paused = []
        self.input = nil
        self.pendingAcks.removeAll()
    }

    // MARK: inbound

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard self.state != .closed else { return }
        self.heardFrom = true
        if self.rateLimit != nil {
            // One clock read per read burst, none per message.
            self.rateLimit!.refill(now: MonotonicClock.nanoseconds())
        }
        var incoming = self.unwrapInboundIn(data)
        if self.input == nil || self.input!.readableBytes == 0 {
            self.input = incoming
        } else {
            self.input!.writeBuffer(&incoming)
        }
        self.processInput()
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        self.flushOutput()
        context.fireChannelReadComplete()
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable {
            self.resume(.unwritable)
        } else {
            self.paused.insert(.unwritable)
        }
        context.fireChannelWritabilityChanged()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        // Socket errors (reset by peer…) end this connection only.
        context.close(promise: nil)
    }

    // MARK: outbound

    func read(context: ChannelHandlerContext) {
        if self.paused.isEmpty {
            context.read()
        } else {
            self.readRequested = true
        }
    }

    // MARK: frames → messages

    /// Parses and handles every complete frame in `input`, unless processing is paused.
    private func processInput() {
        guard self.paused.isDisjoint(with: .blocksProcessing) else { return }
        // A fragmented message that got `retryLater` waits in the reader, not in `input`: read even without new
        // bytes, or it would wait for the client's next frame (and vanish unreported at shutdown).
        guard var bytes = self.input ?? (self.reader.holdsPausedMessage ? ByteBuffer() : nil) else { return }
        self.input = nil
        let outcome = self.reader.read(&bytes) { event in self.handle(event) }
        if bytes.readableBytes > 0 {
            if bytes.readerIndex >= 16 * 1024 { bytes.discardReadBytes() }
            self.input = bytes
        }
        if case .violation(let code, let reason) = outcome {
            self.fail(code: code, reason: reason)
        } else if let violation = self.pendingViolation {
            self.pendingViolation = nil
            self.fail(code: violation.code, reason: violation.reason)
        } else if self.rateViolationPending {
            self.rateViolationPending = false
            self.closeForLimit(.policyViolation, reason: self.rateViolationReason(), counted: .rateLimited)
        }
    }

    private func handle(_ event: WebSocketEvent) -> WebSocketEventDisposition {
        switch event {
        case .text(let payload):
            // After our close frame, data frames are discarded (RFC 6455 §5.5.1).
            guard self.state == .open else { return .consumed }
            if self.rateLimit != nil && !self.refusingInput && !self.admitByRate(bytes: payload.bytes.count) {
                return .retryLater
            }
            let disposition = self.handleText(payload)
            if disposition == .retryLater { self.rateLimit?.giveBack(bytes: payload.bytes.count) }
            return disposition
        case .binary(let payload):
            guard self.state == .open else { return .consumed }
            if self.rateLimit != nil && !self.refusingInput && !self.admitByRate(bytes: payload.bytes.count) {
                return .retryLater
            }
            self.counters.countRejection(.unsupportedFrame, route: self.table.route, payloadBytes: payload.bytes.count)
            self.writeError(
                code: "unsupported_frame",
                reason: nil,
                message: "binary frames are not accepted; send each message as a JSON text frame",
                id: nil,
                from: nil
            )
            return .consumed
        case .ping(let payload):
            if self.state == .open {
                self.writeFrame(opcode: .pong, payload: payload)
            }
            return .consumed
        case .pong:
            return .consumed
        case .close(let code, _):
            self.peerClosed(code: code)
            return .consumed
        }
    }

    private func handleText(_ payload: WebSocketPayload) -> WebSocketEventDisposition {
        switch ChatMessageValidator.validate(payload.bytes, maskKey: payload.maskKey) {
        case .success(let message):
            return self.accept(message, payload)
        case .failure(let rejection):
            self.counters.countRejection(MessageRejectionKind(rejection.reason), route: self.table.route, payloadBytes: payload.bytes.count)
            if rejection.reason == .invalidUTF8 {
                self.pendingViolation = (.invalidFramePayloadData, "text message is not valid UTF-8")
                return .retryLater  // stop here; the connection is failed right after
            }
            self.writeError(
                code: "invalid_message",
                reason: rejection.reason.rawValue,
                message: rejection.message,
                id: rejection.id,
                from: payload
            )
            return .consumed
        }
    }

    private func accept(_ message: ChatMessage, _ payload: WebSocketPayload) -> WebSocketEventDisposition {
        if self.refusingInput {
            self.refuse(message, payload)
            return .consumed
        }
        let wantsAcks = self.target.wantsAcks
        if wantsAcks && self.pendingAcks.count >= self.gateway.configuration.maxAcksInFlight {
            self.paused.insert(.acksInFlight)
            return .retryLater
        }
        let byteCount = ChatMessageValidator.canonicalByteCount(of: message)
        let nextSequence = (self.sequence &+ 1) & MessageTicket.sequenceMask
        let ticket = MessageTicket(
            wantsAck: wantsAcks,
            route: self.table.route,
            slot: self.slot,
            generation: self.generation,
            sequence: nextSequence
        )
        let tag = self.keyTag(message, payload)
        func push() -> RingPushResult {
            self.buffer.push(payloadCount: byteCount, ticket: ticket, tag: tag) { destination in
                _ = ChatMessageValidator.writeCanonical(message, from: payload.bytes, maskKey: payload.maskKey, to: destination.baseAddress!)
            }
        }
        var result = push()
        if result == .full {
            // Register first, then try once more: space freed in between would otherwise wake nobody.
            if !self.registeredForSpace {
                self.registeredForSpace = true
                self.buffer.waitForSpace(self)
            }
            result = push()
            if result == .full {
                self.paused.insert(.ringFull)
                IngestCounters.add(self.counters.backpressurePauses)
                return .retryLater
            }
        }
        guard result == .pushed else {
            self.counters.countRejection(.messageTooLarge, route: self.table.route, payloadBytes: payload.bytes.count)
            self.writeError(
                code: "message_too_large",
                reason: nil,
                message: "message does not fit the topic buffer (\(self.buffer.ring.maxPayloadBytes) bytes at most)",
                id: message.id,
                from: payload
            )
            return .consumed
        }
        self.sequence = nextSequence
        self.counters.countAccepted(route: self.table.route, payloadBytes: payload.bytes.count, recordBytes: byteCount)
        if wantsAcks {
            self.messageNumber += 1
            let id: PendingAck.ID = message.id.map { ChatReplyEncoder.clientID($0, from: payload) } ?? .number(self.messageNumber)
            self.pendingAcks[nextSequence] = PendingAck(id: id, acceptedAt: MonotonicClock.nanoseconds())
        }
        return .consumed
    }

    /// The ring record's tag: for `sender` keys, the sender token's length, with the top bit set when it
    /// holds escapes the producer thread must decode.
    @inline(__always)
    private func keyTag(_ message: ChatMessage, _ payload: WebSocketPayload) -> UInt32 {
        guard self.gateway.configuration.keyPolicy == .sender else { return 0 }
        var tag = UInt32(message.sender.count)
        let bytes = payload.bytes
        let key = payload.maskKey
        for index in message.sender.start..<(message.sender.start + message.sender.count) {
            let byte = bytes[index] ^ UInt8(truncatingIfNeeded: key >> ((index & 3) * 8))
            if byte == UInt8(ascii: "\\") {
                tag |= 0x8000_0000
                break
            }
        }
        return tag
    }

    // MARK: limits

    /// The message's tokens were not there at the last read: look at the clock once more, then either
    /// pause reading until the buckets allow it (backpressure first), or — when the connection has been
    /// over its rate for longer than `limits.rate_violation_close_seconds` — close it with 1008, politely
    /// (our close frame, then the client's awaited while its data is read and discarded): closing the
    /// socket with the flood still unread would send a reset that can destroy the close frame in flight.
    private func admitByRate(bytes count: Int) -> Bool {
        if self.rateLimit!.take(bytes: count) { return true }
        let now = MonotonicClock.nanoseconds()
        self.rateLimit!.refill(now: now)
        if self.rateLimit!.take(bytes: count) { return true }
        if self.rateLimit!.throttled(now: now) {
            self.rateViolationPending = true  // closed once the reader has returned
            return false
        }
        guard let context = self.context else { return false }
        self.paused.insert(.rateLimited)
        self.gateway.connections.rateLimitPaused()
        let wait = min(self.rateLimit!.pauseNanoseconds(bytes: count), 3_600_000_000_000)
        self.rateTimer = context.eventLoop.assumeIsolated().scheduleTask(in: .nanoseconds(Int64(wait))) {
            self.rateTimer = nil
            self.rateLimit?.refill(now: MonotonicClock.nanoseconds())
            self.resume(.rateLimited)
        }
        return false
    }

    private func rateViolationReason() -> String {
        let limits = self.limits.limits
        var rates: [String] = []
        if limits.messagesPerSecond > 0 { rates.append("\(limits.messagesPerSecond) messages/s") }
        if limits.bytesPerSecond > 0 { rates.append("\(limits.bytesPerSecond) bytes/s") }
        return "rate limit exceeded for more than \(limits.rateViolationClose): at most \(rates.joined(separator: " and "))"
    }

    /// Run by the loop's sweep (`LoopConnectionTable`): pings a silent client, closes one silent past the
    /// idle timeout with 1001, and one blocked by Kafka without progress past the overload timeout with 1013.
    func sweep(now: UInt64) {
        guard self.state == .open, !self.paused.contains(.draining) else { return }
        let limits = self.limits
        if self.heardFrom || !self.paused.isDisjoint(with: .blocksProcessing) {
            // Heard from, or not being read by us (Kafka backpressure, rate limit): not the client's silence.
            self.heardFrom = false
            self.lastHeardAt = now
        }
        let silent = now &- self.lastHeardAt
        if limits.idleTimeout > 0 && silent >= limits.idleTimeout {
            self.closeForLimit(.goingAway, reason: "idle timeout: nothing received for \(limits.limits.idleTimeout)", counted: .idleTimeout)
            return
        }
        if limits.pingInterval > 0 && silent >= limits.pingInterval && now &- self.lastPingAt >= limits.pingInterval {
            self.lastPingAt = now
            self.appendOutput { WebSocketFrameWriter.writeFrameHeader(opcode: .ping, payloadLength: 0, into: &$0) }
            self.flushOutput()
        }
        if limits.overloadClose > 0 {
            if !self.paused.isDisjoint(with: .kafkaBlocked) && self.sequence == self.sequenceAtSweep {
                if self.blockedSince == 0 {
                    self.blockedSince = now
                } else if now &- self.blockedSince >= limits.overloadClose {
                    self.closeForLimit(
                        .tryAgainLater,
                        reason: "overloaded: no message could be queued for \(limits.limits.overloadClose); try again later",
                        counted: .overloaded
                    )
                    return
                }
            } else {
                self.blockedSince = 0
            }
            self.sequenceAtSweep = self.sequence
        }
    }

    /// Closes politely for a limit: our close frame, then the client's is awaited (at most the close
    /// timeout). Messages read but never accepted are discarded; the close code tells the client so.
    private func closeForLimit(_ code: WebSocketCloseCode, reason: String, counted closeReason: ServerCloseReason) {
        guard self.state == .open, let context = self.context else { return }
        self.gateway.connections.closedByServer(closeReason)
        self.rateTimer?.cancel()
        self.startClose(code: code, reason: reason)
        // Keep reading so the client's close frame is seen; data frames after our close are discarded.
        self.paused = self.paused.intersection(.unwritable)
        self.processInput()
        if self.state != .closed, self.readRequested, self.paused.isEmpty {
            self.readRequested = false
            context.read()
        }
    }

    // MARK: backpressure

    func ringHasSpace() {
        self.eventLoop.execute {
            self.registeredForSpace = false
            self.resume(.ringFull)
        }
    }

    private func resume(_ reason: PauseReasons) {
        guard self.paused.contains(reason) else { return }
        self.paused.remove(reason)
        self.processInput()
        self.flushOutput()
        if self.paused.isEmpty && self.readRequested, let context = self.context {
            self.readRequested = false
            context.read()
        }
    }

    // MARK: acknowledgements

    /// Writes the ack or nack for one delivery report; returns true when something was written.
    func acknowledge(_ report: DeliveryResult, sequence: UInt32) -> Bool {
        guard self.state != .closed, let pending = self.pendingAcks.removeValue(forKey: sequence) else { return false }
        self.table.ackLatency.record(nanoseconds: MonotonicClock.nanoseconds() &- pending.acceptedAt)
        self.scratch.clear()
        if let error = report.failure {
            self.scratch.writeStaticString("{\"nack\":")
            self.writeAckID(pending)
            self.scratch.writeStaticString(",\"error\":{\"code\":")
            JSONText.writeString(error.name, into: &self.scratch)
            self.scratch.writeStaticString(",\"message\":")
            JSONText.writeString(error.message, into: &self.scratch)
            self.scratch.writeStaticString("},\"retriable\":")
            self.scratch.writeStaticString(error.isRetriable ? "true}" : "false}")
        } else {
            self.scratch.writeStaticString("{\"ack\":")
            self.writeAckID(pending)
            self.scratch.writeStaticString(",\"partition\":")
            JSONText.writeInteger(report.partition, into: &self.scratch)
            self.scratch.writeStaticString(",\"offset\":")
            JSONText.writeInteger(report.offset, into: &self.scratch)
            self.scratch.writeStaticString("}")
        }
        self.writeScratchAsText()
        return true
    }

    func flushAcknowledgements() {
        self.flushOutput()
        if self.paused.contains(.acksInFlight) && self.pendingAcks.count <= self.gateway.configuration.maxAcksInFlight / 2 {
            self.resume(.acksInFlight)
        }
    }

    private func writeAckID(_ pending: PendingAck) {
        switch pending.id {
        case .clientID(let token):
            self.scratch.writeBytes(token)
        case .number(let number):
            JSONText.writeInteger(number, into: &self.scratch)
        }
    }

    // MARK: shutdown (called on this loop by the gateway)

    /// Stops reading; what was already read is still handled.
    func beginDraining() {
        self.paused.insert(.draining)
    }

    /// True while complete messages already read wait for ring space or for acks.
    var hasBlockedInput: Bool {
        self.state == .open && !self.paused.isDisjoint(with: .blocksProcessing)
            && ((self.input?.readableBytes ?? 0) > 0 || self.reader.holdsPausedMessage)
    }

    /// Shutdown deadline: messages read but never accepted are refused (nacked to ack-mode clients,
    /// counted and logged), instead of vanishing.
    func refuseBlockedInput() {
        guard self.hasBlockedInput else { return }
        self.refusingInput = true
        self.paused.subtract(.blocksProcessing)
        self.processInput()
        self.flushOutput()
    }

    private func refuse(_ message: ChatMessage, _ payload: WebSocketPayload) {
        self.counters.countRefusedAtShutdown(route: self.table.route, payloadBytes: payload.bytes.count)
        guard self.target.wantsAcks else { return }
        self.messageNumber += 1
        self.scratch.clear()
        self.scratch.writeStaticString("{\"nack\":")
        if let id = message.id {
            self.writeToken(id, from: payload, into: &self.scratch)
        } else {
            JSONText.writeInteger(self.messageNumber, into: &self.scratch)
        }
        self.scratch.writeStaticString(
            ",\"error\":{\"code\":\"shutting_down\",\"message\":\"the server shut down before this message could be queued\"},\"retriable\":true}"
        )
        self.writeScratchAsText()
    }

    /// Acks were delivered; say goodbye with 1001 and wait briefly for the client's close frame.
    func closeForShutdown() {
        guard self.state == .open else { return }
        self.gateway.connections.closedByServer(.shuttingDown)
        self.startClose(code: .goingAway, reason: "server shutting down")
        // Keep reading so the client's close frame is seen; data after our close is discarded.
        self.paused = self.paused.intersection(.unwritable)
        if self.readRequested, self.paused.isEmpty, let context = self.context {
            self.readRequested = false
            context.read()
        }
    }

    // MARK: closing

    private func startClose(code: WebSocketCloseCode, reason: String) {
        guard let context = self.context else { return }
        self.state = .closeSent
        self.appendOutput { WebSocketFrameWriter.writeClose(code: code, reason: reason, into: &$0) }
        self.flushOutput()
        self.closeTimer = context.eventLoop.assumeIsolated().scheduleTask(in: .init(self.gateway.configuration.closeTimeout)) {
            context.close(promise: nil)
        }
    }

    /// A protocol violation: tell the client why, then close the TCP connection.
    private func fail(code: WebSocketCloseCode, reason: String) {
        guard let context = self.context else { return }
        self.input = nil
        if self.state == .open {
            self.gateway.connections.closedByServer(Self.closeReason(code))
            self.state = .closeSent
            self.appendOutput { WebSocketFrameWriter.writeClose(code: code, reason: reason, into: &$0) }
        }
        self.state = .closed
        let output = self.output ?? context.channel.allocator.buffer(capacity: 0)
        self.output = nil
        context.writeAndFlush(self.wrapOutboundOut(output)).assumeIsolated().whenComplete { _ in
            context.close(promise: nil)
        }
    }

    /// The `kcp_connections_closed_total` reason of a close `fail` sends.
    private static func closeReason(_ code: WebSocketCloseCode) -> ServerCloseReason {
        switch code {
        case .protocolError: .protocolError
        case .invalidFramePayloadData: .invalidPayload
        case .messageTooBig: .messageTooBig
        default: .other
        }
    }

    private func peerClosed(code: WebSocketCloseCode?) {
        guard let context = self.context else { return }
        if self.state == .open {
            // Echo the client's code, as RFC 6455 §5.5.1 suggests; an empty close answers an empty one.
            self.appendOutput { output in
                if let code {
                    WebSocketFrameWriter.writeClose(code: code, reason: "", into: &output)
                } else {
                    WebSocketFrameWriter.writeEmptyClose(into: &output)
                }
            }
        }
        self.state = .closed
        self.closeTimer?.cancel()
        let output = self.output ?? context.channel.allocator.buffer(capacity: 0)
        self.output = nil
        context.writeAndFlush(self.wrapOutboundOut(output)).assumeIsolated().whenComplete { _ in
            context.close(promise: nil)
        }
    }

    // MARK: writing

    private func appendOutput(_ body: (inout ByteBuffer) -> Void) {
        if self.output == nil {
            self.output = self.context?.channel.allocator.buffer(capacity: 256) ?? ByteBuffer()
        }
        body(&self.output!)
    }

    private func flushOutput() {
        guard let output = self.output, output.readableBytes > 0, let context = self.context else { return }
        self.output = nil
        context.writeAndFlush(self.wrapOutboundOut(output), promise: nil)
    }

    private func writeFrame(opcode: WebSocketOpcode, payload: WebSocketPayload) {
        self.appendOutput { WebSocketFrameWriter.writeFrame(opcode: opcode, payload: payload.bytes, maskKey: payload.maskKey, into: &$0) }
    }

    private func writeScratchAsText() {
        self.scratch.withUnsafeReadableBytes { json in
            self.appendOutput { WebSocketFrameWriter.writeFrame(opcode: .text, payload: json, maskKey: 0, into: &$0) }
        }
    }

    private func writeError(code: String, reason: String?, message: String, id: TokenSpan?, from payload: WebSocketPayload?) {
        self.scratch.clear()
        self.scratch.writeStaticString("{\"error\":{\"code\":")
        JSONText.writeString(code, into: &self.scratch)
        if let reason {
            self.scratch.writeStaticString(",\"reason\":")
            JSONText.writeString(reason, into: &self.scratch)
        }
        self.scratch.writeStaticString(",\"message\":")
        JSONText.writeString(message, into: &self.scratch)
        self.scratch.writeStaticString("}")
        if let id, let payload {
            self.scratch.writeStaticString(",\"id\":")
            self.writeToken(id, from: payload, into: &self.scratch)
        }
        self.scratch.writeStaticString("}")
        self.writeScratchAsText()
    }

    private func writeToken(_ span: TokenSpan, from payload: WebSocketPayload, into buffer: inout ByteBuffer) {
        buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: span.count) { destination in
            ChatMessageValidator.copyToken(span, from: payload.bytes, maskKey: payload.maskKey, to: destination.baseAddress!)
            return span.count
        }
    }
}
