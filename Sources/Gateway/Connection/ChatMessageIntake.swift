import ChatContract
import Ingest
import Monitoring
import WebSocketProtocol

/// The per-message path of a connection, after the frame reader: one validation pass, admission by the
/// state machine (ack window, refusal at shutdown), one copy into the topic ring, the counters, and the
/// message's pending ack. Answers the reader: `consumed`, or `retryLater` to keep the message where it is.
///
/// Only constants, held in a `let` by the handler, so calling it per message copies and retains nothing.
struct ChatMessageIntake {
    let buffer: TopicBuffer
    let counters: IngestCounters
    /// For the paused-connections gauge.
    let connections: ConnectionCounters
    let route: Int
    let wantsAcks: Bool
    /// `kafka.key = sender`: the ring record's tag carries the sender token's length.
    let tagsSenderKeys: Bool
    /// `kafka.message_id_header` is set: each record gets a `MessageIDTrailer`.
    let carriesMessageIDs: Bool
    init(target: WebSocketTarget, buffer: TopicBuffer, gateway: GatewayContext, route: Int) {
        self.buffer = buffer
        self.counters = gateway.counters
        self.connections = gateway.connections
        self.route = route
        self.wantsAcks = target.wantsAcks
        self.tagsSenderKeys = gateway.configuration.keyPolicy == .sender
        self.carriesMessageIDs = gateway.configuration.carriesMessageIDs
    }

    /// A complete text message from the connection at `place` in its loop's table (for the tickets).
    @inline(__always)
    func text(
        _ payload: WebSocketPayload,
        place: (slot: Int, generation: UInt32),
        machine: inout ConnectionStateMachine,
        output: inout ConnectionOutput,
        waiter: some RingSpaceWaiter
    ) -> WebSocketEventDisposition {
        switch ChatMessageValidator.validate(payload.bytes, maskKey: payload.maskKey) {
        case .success(let message):
            return self.accept(message, payload, place: place, machine: &machine, output: &output, waiter: waiter)
        case .failure(let rejection):
            self.counters.countRejection(
                MessageRejectionKind(rejection.reason),
                route: self.route,
                payloadBytes: payload.count
            )
            if rejection.reason == .invalidUTF8 {
                machine.invalidText()
                return .retryLater  // stop here; the connection is failed right after
            }
            output.error(
                code: "invalid_message",
                reason: rejection.reason.rawValue,
                message: rejection.message,
                id: rejection.id,
                from: payload
            )
            return .consumed
        }
    }

    /// A complete binary message: refused with an error reply.
    func binary(_ payload: WebSocketPayload, output: inout ConnectionOutput) {
        self.counters.countRejection(.unsupportedFrame, route: self.route, payloadBytes: payload.count)
        output.error(
            code: "unsupported_frame",
            message: "binary frames are not accepted; send each message as a JSON text frame"
        )
    }

    @inline(__always)
    private func accept(
        _ message: ChatMessage,
        _ payload: WebSocketPayload,
        place: (slot: Int, generation: UInt32),
        machine: inout ConnectionStateMachine,
        output: inout ConnectionOutput,
        waiter: some RingSpaceWaiter
    ) -> WebSocketEventDisposition {
        let sequence: UInt32
        switch machine.admit() {
        case .refuse(let nackNumber):
            self.counters.countRefusedAtShutdown(route: self.route, payloadBytes: payload.count)
            if let nackNumber { output.shutdownNack(id: message.id, number: nackNumber, from: payload) }
            return .consumed
        case .wait(let gauge):
            self.updatePausedGauge(gauge)
            return .retryLater
        case .push(let next):
            sequence = next
        }
        let byteCount = ChatMessageValidator.canonicalByteCount(of: message)
        let recordCount =
            self.carriesMessageIDs
            ? MessageIDTrailer.recordCount(valueCount: byteCount, idCount: message.id?.count ?? 0) : byteCount
        let ticket = MessageTicket(
            wantsAck: self.wantsAcks,
            route: self.route,
            slot: place.slot,
            generation: place.generation,
            sequence: sequence
        )
        let tag = self.tagsSenderKeys ? message.senderKeyTag(in: payload.bytes, maskKey: payload.maskKey) : 0
        func push() -> RingPushResult {
            self.buffer.push(payloadCount: recordCount, ticket: ticket, tag: tag) { destination in
                _ = ChatMessageValidator.writeCanonical(
                    message,
                    from: payload.bytes,
                    maskKey: payload.maskKey,
                    to: destination.baseAddress!
                )
                if self.carriesMessageIDs {
                    MessageIDTrailer.write(
                        id: message.id,
                        from: payload.bytes,
                        maskKey: payload.maskKey,
                        after: byteCount,
                        to: destination
                    )
                }
            }
        }
        var result = push()
        if result == .full {
            // Register first, then try once more: space freed in between would otherwise wake nobody.
            if machine.ringFull() { self.buffer.waitForSpace(waiter) }
            result = push()
            if result == .full {
                self.updatePausedGauge(machine.ringStillFull())
                IngestCounters.add(self.counters.backpressurePauses)
                return .retryLater
            }
        }
        guard result == .pushed else {
            self.counters.countRejection(.messageTooLarge, route: self.route, payloadBytes: payload.count)
            let reason = "message does not fit the topic buffer (\(self.buffer.ring.maxPayloadBytes) bytes at most)"
            output.error(code: "message_too_large", message: reason, id: message.id, from: payload)
            return .consumed
        }
        self.counters.countAccepted(route: self.route, payloadBytes: payload.count, recordBytes: byteCount)
        if let number = machine.pushed(sequence: sequence) {
            let id = message.id.map { ChatReplyEncoder.clientID($0, from: payload) } ?? .number(number)
            machine.awaitAck(sequence: sequence, PendingAck(id: id, acceptedAt: MonotonicClock.nanoseconds()))
        }
        return .consumed
    }

    /// The paused-connections gauge follows backpressure only (see `ConnectionFlowControl.GaugeChange`).
    func updatePausedGauge(_ gauge: ConnectionFlowControl.GaugeChange) {
        if gauge != .unchanged { self.connections.setPaused(gauge == .paused) }
    }
}
