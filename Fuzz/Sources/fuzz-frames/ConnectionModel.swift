import ChatContract
import FuzzSupport
import NIOCore
import WebSocketProtocol

/// The inbound half of `WebSocketConnectionHandler` without NIO's channel or the ring: the same input
/// buffering (`channelRead`, `processInput`), the same reader configuration (UTF-8 of single frames left
/// to the validator, unless the input's options say otherwise) and the same reactions to each event
/// (validate and write the canonical record, error for binary, pong for ping, echo for close, 1007 for
/// invalid UTF-8, violations → close frame). Backpressure (full ring, rate limit) is the callback
/// answering `retryLater`, decided by `pauses`; `resume()` is `ringHasSpace()` / the rate timer.
///
/// What it saw is kept as a transcript, so two deliveries of the same bytes can be compared.
final class ConnectionModel {
    enum Entry: Equatable {
        case message(MessageChecks.Outcome)
        case binary([UInt8])
        case ping([UInt8])
        case pong
        case close(code: UInt16?, reason: [UInt8])
        case violation(code: UInt16, reason: String)
    }

    private(set) var transcript: [Entry] = []
    private(set) var isPaused = false
    private(set) var isClosed = false
    /// Decides when the callback answers `retryLater`; nil: never.
    var pauses: SplitMix64?

    private var reader: WebSocketFrameReader
    private let validatesTextUTF8: Bool
    private var input: ByteBuffer?
    private var pendingViolation: (code: WebSocketCloseCode, reason: String)?
    /// The message last answered `retryLater`, unmasked: the next data event must be the same message.
    private var heldMessage: (isText: Bool, bytes: [UInt8])?
    private var output = ByteBuffer()

    init(maxMessageBytes: Int, maxFragments: Int, validatesTextUTF8: Bool) {
        self.validatesTextUTF8 = validatesTextUTF8
        reader = WebSocketFrameReader(
            maxMessageBytes: maxMessageBytes,
            maxFragments: maxFragments,
            validatesTextUTF8: validatesTextUTF8
        )
    }

    /// What is left when the stream ends: unparsed bytes and a message still being reassembled.
    var leftover: (bytes: Int, reassembling: Bool) {
        (input?.readableBytes ?? 0, reader.isReassemblingMessage)
    }

    /// `channelRead`: the chunk arrives in a buffer of its own, as from the socket.
    func receive(_ chunk: UnsafeRawBufferPointer) {
        guard !isClosed else { return }
        var incoming = ByteBufferAllocator().buffer(capacity: chunk.count)
        incoming.writeBytes(chunk)
        if input == nil || input!.readableBytes == 0 {
            input = incoming
        } else {
            input!.writeBuffer(&incoming)
        }
        processInput()
    }

    /// The ring has space again (or the rate limit's timer fired).
    func resume() {
        guard isPaused else { return }
        isPaused = false
        processInput()
    }

    private func processInput() {
        guard !isPaused, !isClosed else { return }
        // As the handler: a paused fragmented message waits in the reader, not in `input`.
        guard var bytes = input ?? (reader.holdsPausedMessage ? ByteBuffer() : nil) else { return }
        input = nil
        let outcome = reader.read(&bytes) { event in self.handle(event) }
        switch outcome {
        case .closed, .violation:
            // Terminal: every later read answers the same and consumes nothing.
            var again = bytes
            let repeated = reader.read(&again) { _ in fuzzFailure("an event after the reader's terminal outcome") }
            fuzzCheck(repeated == outcome, "terminal outcome \(outcome) became \(repeated)")
            fuzzCheck(again.readerIndex == bytes.readerIndex, "a read after the terminal outcome consumed bytes")
        case .paused:
            fuzzCheck(isPaused || pendingViolation != nil, "reader paused although the callback never asked")
        case .needMoreBytes:
            fuzzCheck(!isPaused, "reader went on after the callback answered retryLater")
        }
        if bytes.readableBytes > 0 {
            if bytes.readerIndex >= 16 * 1024 { bytes.discardReadBytes() }
            input = bytes
        }
        if case .violation(let code, let reason) = outcome {
            fail(code: code, reason: reason)
        } else if let violation = pendingViolation {
            pendingViolation = nil
            fail(code: violation.code, reason: violation.reason)
        }
    }

    private func handle(_ event: WebSocketEvent) -> WebSocketEventDisposition {
        switch event {
        case .text(let payload):
            guard !isClosed else { return .consumed }
            let plain = Masking.apply(payload.bytes, key: payload.maskKey)
            if holdIfPaused(isText: true, plain) { return .retryLater }
            let result = ChatMessageValidator.validate(payload.bytes, maskKey: payload.maskKey)
            let outcome = MessageChecks.check(result, payload: payload.bytes, maskKey: payload.maskKey)
            if case .failure(let rejection) = result, rejection.reason == .invalidUTF8 {
                // (Fragmented text is always checked by the reader; `reader` itself is busy calling us.)
                fuzzCheck(!validatesTextUTF8, "invalid UTF-8 reached the validator although the reader checks it")
                pendingViolation = (.invalidFramePayloadData, "text message is not valid UTF-8")
                return .retryLater  // stop here; the connection is failed right after
            }
            transcript.append(.message(outcome))
            return .consumed
        case .binary(let payload):
            guard !isClosed else { return .consumed }
            let plain = Masking.apply(payload.bytes, key: payload.maskKey)
            if holdIfPaused(isText: false, plain) { return .retryLater }
            transcript.append(.binary(plain))
            return .consumed
        case .ping(let payload):
            fuzzCheck(payload.count <= 125, "ping payload of \(payload.count) bytes")
            let plain = Masking.apply(payload.bytes, key: payload.maskKey)
            if !isClosed {
                output.clear()
                WebSocketFrameWriter.writeFrame(
                    opcode: .pong,
                    payload: payload.bytes,
                    maskKey: payload.maskKey,
                    into: &output
                )
                checkServerFrame(opcode: 0xA, payload: plain)
                transcript.append(.ping(plain))
            }
            return .consumed
        case .pong:
            transcript.append(.pong)
            return .consumed
        case .close(let code, let reason):
            let plainReason = Masking.apply(reason.bytes, key: reason.maskKey)
            fuzzCheck(code?.isValidOnWire ?? true, "close code \(String(describing: code)) is not valid on the wire")
            fuzzCheck(code != nil || plainReason.isEmpty, "a close reason without a code")
            fuzzCheck(String(validating: plainReason, as: UTF8.self) != nil, "close reason is not valid UTF-8")
            output.clear()
            if let code {
                WebSocketFrameWriter.writeClose(code: code, reason: "", into: &output)
                checkServerFrame(opcode: 0x8, payload: [UInt8(code.rawValue >> 8), UInt8(code.rawValue & 0xFF)])
            } else {
                WebSocketFrameWriter.writeEmptyClose(into: &output)
                checkServerFrame(opcode: 0x8, payload: [])
            }
            isClosed = true
            transcript.append(.close(code: code?.rawValue, reason: plainReason))
            return .consumed
        }
    }

    /// Redelivery must be the held message; then maybe hold this one (backpressure).
    private func holdIfPaused(isText: Bool, _ plain: [UInt8]) -> Bool {
        if let held = heldMessage {
            fuzzCheck(
                held.isText == isText && held.bytes == plain,
                "the message delivered after retryLater is another one"
            )
            heldMessage = nil
        }
        guard pauses?.chance(oneIn: 3) == true else { return false }
        heldMessage = (isText, plain)
        isPaused = true
        return true
    }

    /// A protocol violation: the close frame the handler sends, then the connection is gone.
    private func fail(code: WebSocketCloseCode, reason: String) {
        input = nil
        isClosed = true
        transcript.append(.violation(code: code.rawValue, reason: reason))
        fuzzCheck([1002, 1007, 1009].contains(code.rawValue), "violation with close code \(code.rawValue)")
        output.clear()
        WebSocketFrameWriter.writeClose(code: code, reason: reason, into: &output)
        // The reason may be cut to fit 125 bytes, at a character boundary.
        let frame = Array(output.readableBytesView)
        fuzzCheck(
            frame.count >= 4 && frame[0] == 0x88 && Int(frame[1]) == frame.count - 2 && frame[1] <= 125,
            "bad close frame"
        )
        fuzzCheck(UInt16(frame[2]) << 8 | UInt16(frame[3]) == code.rawValue, "close frame carries another code")
        let sentReason = Array(frame[4...])
        fuzzCheck(Array(reason.utf8).starts(with: sentReason), "close reason is not a prefix of the reason")
        fuzzCheck(String(validating: sentReason, as: UTF8.self) != nil, "close reason cut inside a character")
    }

    /// `output` holds exactly one unmasked, final server frame with this opcode and payload.
    private func checkServerFrame(opcode: UInt8, payload: [UInt8]) {
        let frame = Array(output.readableBytesView)
        fuzzCheck(
            frame.count == 2 + payload.count && frame[0] == 0x80 | opcode && Int(frame[1]) == payload.count
                && Array(frame[2...]) == payload,
            "server frame \(hexDump(frame)) is not opcode \(opcode) with payload \(hexDump(payload))"
        )
    }
}
