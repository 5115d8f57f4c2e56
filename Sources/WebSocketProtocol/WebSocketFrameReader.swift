import NIOCore

/// Per-connection RFC 6455 state for the server side: parses client frames out of the socket's bytes,
/// enforces the protocol rules and delivers whole messages.
///
/// Exists instead of NIOWebSocket's decoder because that one boxes every frame in `NIOAny`, an allocation
/// per message. Here a single-frame message is delivered as a pointer into the caller's buffer (still
/// masked), and only fragmented messages are copied, into one reassembly buffer reused across messages.
///
/// Decisions worth knowing:
/// - Non-minimal payload length encodings (16-bit form for < 126, 64-bit form for < 65536) are accepted.
///   RFC 6455 puts the "minimal" MUST on the sender; rejecting would protect nothing, since the declared
///   length is bounded by `maxMessageBytes` either way.
/// - Size limits are checked from the frame header, before waiting for the payload, so a peer cannot make
///   the caller buffer more than `maxMessageBytes` (plus one header) per frame.
/// - A fragmented text message is always UTF-8 checked, fragment by fragment as it arrives; a single-frame
///   text message only when `validatesTextUTF8` (the daemon's JSON validator checks UTF-8 in its own pass).
/// - After `.closed` or `.violation`, every later `read` returns the same outcome and consumes nothing.
public struct WebSocketFrameReader: Sendable {
    /// Reassembly buffers that grew beyond this are released after their message, so a connection that
    /// once sent a big message does not keep the memory while idle.
    static let retainedReassemblyCapacity = 64 * 1024

    public let maxMessageBytes: Int
    public let maxFragments: Int
    public let validatesTextUTF8: Bool

    /// Opcode (text or binary) of the fragmented message being reassembled; nil when none is in progress.
    private var fragmentedOpcode: WebSocketOpcode?
    /// Data frames received so far for the fragmented message.
    private var fragmentCount = 0
    /// The unmasked bytes of the fragmented message; created on first use, kept between messages.
    private var reassembly: ByteBuffer?
    /// UTF-8 state of a fragmented text message, carried across fragments.
    private var textValidator = UTF8Validator()
    /// The final fragment was consumed from the input but the message still awaits (re)delivery.
    private var hasCompletedMessage = false
    /// Set once `.closed` or `.violation` was returned.
    private var terminalOutcome: WebSocketReadOutcome?

    /// - Parameters:
    ///   - maxMessageBytes: Largest message payload accepted (single frame or reassembled); larger → 1009.
    ///     At most `UInt32.max`, the largest `ByteBuffer`.
    ///   - maxFragments: Most data frames one message may span; more → 1009.
    ///   - validatesTextUTF8: Whether single-frame text messages are UTF-8 checked here.
    public init(maxMessageBytes: Int, maxFragments: Int, validatesTextUTF8: Bool) {
        precondition((0...Int(UInt32.max)).contains(maxMessageBytes), "maxMessageBytes must be in 0...UInt32.max")
        precondition(maxFragments >= 1, "maxFragments must be at least 1")
        self.maxMessageBytes = maxMessageBytes
        self.maxFragments = maxFragments
        self.validatesTextUTF8 = validatesTextUTF8
    }

    /// Whether a fragmented message is partly received (or complete but not yet consumed).
    public var isReassemblingMessage: Bool {
        fragmentedOpcode != nil
    }

    /// Whether a complete fragmented message that the callback answered `retryLater` to waits here. Its
    /// frames are already consumed from the caller's buffer, so the caller must call `read` again even when
    /// it has no new bytes (an empty buffer will do), or the message waits for the peer's next frame.
    public var holdsPausedMessage: Bool {
        hasCompletedMessage
    }

    /// True once `read` reported a close frame or a violation; it reports the same forever after.
    public var hasFinished: Bool {
        terminalOutcome != nil
    }

    /// How many bytes the frame at the start of `buffer` still lacks: 0 once it is complete (or when its
    /// header breaks a rule, which `read` reports); while the header itself is cut short, the header bytes
    /// known to be missing. Lets a caller holding the start of a frame take just the rest of it from the next
    /// read instead of appending the whole read to it.
    public func missingByteCount(ofFrameStartingIn buffer: ByteBuffer) -> Int {
        buffer.withUnsafeReadableBytes { bytes in
            guard let base = bytes.baseAddress else { return 2 }
            switch Self.parseHeader(base, available: bytes.count) {
            case .violation:
                return 0
            case .header(let header):
                // Longer than any message may be: `read` refuses it without waiting for its bytes.
                guard header.payloadLength <= UInt64(maxMessageBytes) else { return 0 }
                return max(0, header.headerLength &+ Int(header.payloadLength) &- bytes.count)
            case .incomplete(let needs):
                return needs &- bytes.count
            }
        }
    }

    /// Capacity of the retained reassembly buffer, nil when none is held (for tests and diagnostics).
    var reassemblyCapacity: Int? {
        reassembly?.capacity
    }

    /// Parses as many frames as `buffer` holds, delivering events in order. Consumes (advances the reader
    /// index over) everything consumed and leaves an incomplete trailing frame, or a message the callback
    /// answered `retryLater` to, in `buffer`.
    public mutating func read(
        _ buffer: inout ByteBuffer,
        _ onEvent: (WebSocketEvent) -> WebSocketEventDisposition
    ) -> WebSocketReadOutcome {
        if let terminalOutcome {
            return terminalOutcome
        }
        let (consumed, outcome) = buffer.withUnsafeReadableBytes { input in
            self.parse(input, onEvent)
        }
        buffer.moveReaderIndex(forwardBy: consumed)
        switch outcome {
        case .needMoreBytes, .paused:
            break
        case .closed, .violation:
            terminalOutcome = outcome
            fragmentedOpcode = nil
            reassembly = nil
            hasCompletedMessage = false
        }
        return outcome
    }

    /// A parsed frame header.
    private struct FrameHeader {
        var fin: Bool
        var opcode: WebSocketOpcode
        /// Bytes before the payload: 2 + extended length (0, 2 or 8) + 4 (mask key).
        var headerLength: Int
        var payloadLength: UInt64
        var maskKey: UInt32
    }

    /// A rule the peer broke. A trivial value (no String), so the per-frame path never copies or destroys
    /// a reference; the reason text is only built by `outcome(for:)`, once, on the way out.
    private enum Violation {
        case reservedBits
        case unknownOpcode(UInt8)
        case unmasked
        case fragmentedControlFrame
        case controlFrameTooLong
        case lengthTopBitSet
        case dataFrameInsideFragmentedMessage
        case continuationWithoutMessage
        case messageTooBig
        case tooManyFragments
        case invalidUTF8
        case textEndsInsideCharacter
        case oneByteClosePayload
        case invalidCloseCode(UInt16)
        case invalidCloseReason
    }

    private enum HeaderParse {
        /// The checks so far need this many bytes of header before they can go on.
        case incomplete(needs: Int)
        case header(FrameHeader)
        case violation(Violation)
    }

    private enum CloseParse {
        case valid(WebSocketCloseCode?)
        case violation(Violation)
    }

    /// The frame loop over the readable bytes. Returns how many bytes were consumed and why it stopped.
    private mutating func parse(
        _ input: UnsafeRawBufferPointer,
        _ onEvent: (WebSocketEvent) -> WebSocketEventDisposition
    ) -> (consumed: Int, outcome: WebSocketReadOutcome) {
        var offset = 0
        while true {
            if hasCompletedMessage, deliverReassembledMessage(onEvent) == .retryLater {
                return (offset, .paused)
            }
            guard let base = input.baseAddress else {
                return (offset, .needMoreBytes)
            }
            let frame = base + offset
            let available = input.count &- offset
            let header: FrameHeader
            switch Self.parseHeader(frame, available: available) {
            case .incomplete:
                return (offset, .needMoreBytes)
            case .violation(let violation):
                return (offset, outcome(for: violation))
            case .header(let parsed):
                header = parsed
            }
            if let violation = checkMessageRules(header) {
                return (offset, outcome(for: violation))
            }
            // Bounded by 125 (control) or maxMessageBytes (data) after the checks above.
            let length = Int(truncatingIfNeeded: header.payloadLength)
            guard available &- header.headerLength >= length else {
                return (offset, .needMoreBytes)
            }
            let payload = WebSocketPayload(
                bytes: UnsafeRawBufferPointer(start: frame + header.headerLength, count: length),
                maskKey: header.maskKey
            )
            let frameEnd = offset &+ header.headerLength &+ length

            switch header.opcode {
            case .text, .binary:
                if header.fin {
                    if header.opcode == .text && validatesTextUTF8 {
                        var validator = UTF8Validator()
                        guard validator.feed(payload.bytes, maskKey: payload.maskKey),
                            validator.isAtCharacterBoundary
                        else {
                            return (offset, outcome(for: .invalidUTF8))
                        }
                    }
                    let event: WebSocketEvent = header.opcode == .text ? .text(payload) : .binary(payload)
                    if onEvent(event) == .retryLater {
                        return (offset, .paused)
                    }
                } else {
                    fragmentedOpcode = header.opcode
                    fragmentCount = 1
                    if header.opcode == .text {
                        textValidator.reset()
                        if let violation = validateFragment(payload, isFinal: false) {
                            return (offset, outcome(for: violation))
                        }
                    }
                    appendToReassembly(payload)
                }
                offset = frameEnd
            case .continuation:
                fragmentCount &+= 1
                if fragmentedOpcode == .text, let violation = validateFragment(payload, isFinal: header.fin) {
                    return (offset, outcome(for: violation))
                }
                appendToReassembly(payload)
                offset = frameEnd
                if header.fin {
                    hasCompletedMessage = true  // delivered at the top of the loop
                }
            case .ping:
                _ = onEvent(.ping(payload))
                offset = frameEnd
            case .pong:
                _ = onEvent(.pong)
                offset = frameEnd
            case .close:
                switch Self.parseClose(payload) {
                case .valid(let code):
                    let reason = WebSocketPayload(
                        bytes: length >= 2 ? UnsafeRawBufferPointer(rebasing: payload.bytes[2...]) : payload.bytes,
                        maskKey: WebSocketMask.rotated(payload.maskKey, byOffset: 2)
                    )
                    _ = onEvent(.close(code: code, reason: reason))
                    return (frameEnd, .closed)
                case .violation(let violation):
                    return (offset, outcome(for: violation))
                }
            }
        }
    }

    /// The opcode for the low 4 bits of the first header byte; nil for the reserved ones.
    @inline(__always)
    private static func opcode(_ bits: UInt8) -> WebSocketOpcode? {
        switch bits {
        case 0x0: .continuation
        case 0x1: .text
        case 0x2: .binary
        case 0x8: .close
        case 0x9: .ping
        case 0xA: .pong
        default: nil
        }
    }

    /// Parses the header at `frame`, checking everything decidable from the header alone.
    /// Checks run as soon as their bytes are present, so a bad frame fails even before it is complete.
    @inline(__always)
    private static func parseHeader(_ frame: UnsafeRawPointer, available: Int) -> HeaderParse {
        guard available >= 2 else { return .incomplete(needs: 2) }
        let byte0 = frame.load(as: UInt8.self)
        let byte1 = frame.load(fromByteOffset: 1, as: UInt8.self)
        if byte0 & 0x70 != 0 {
            return .violation(.reservedBits)
        }
        guard let opcode = opcode(byte0 & 0x0F) else {
            return .violation(.unknownOpcode(byte0 & 0x0F))
        }
        if byte1 & 0x80 == 0 {
            return .violation(.unmasked)
        }
        let fin = byte0 & 0x80 != 0
        let shortLength = byte1 & 0x7F
        if opcode.isControl {
            if !fin {
                return .violation(.fragmentedControlFrame)
            }
            if shortLength > 125 {
                return .violation(.controlFrameTooLong)
            }
        }
        let headerLength: Int
        let payloadLength: UInt64
        if shortLength < 126 {
            guard available >= 6 else { return .incomplete(needs: 6) }
            headerLength = 6
            payloadLength = UInt64(shortLength)
        } else if shortLength == 126 {
            guard available >= 8 else { return .incomplete(needs: 8) }
            headerLength = 8
            payloadLength = UInt64(UInt16(bigEndian: frame.loadUnaligned(fromByteOffset: 2, as: UInt16.self)))
        } else {
            guard available >= 10 else { return .incomplete(needs: 10) }
            let declared = UInt64(bigEndian: frame.loadUnaligned(fromByteOffset: 2, as: UInt64.self))
            if declared >> 63 != 0 {
                return .violation(.lengthTopBitSet)
            }
            guard available >= 14 else { return .incomplete(needs: 14) }
            headerLength = 14
            payloadLength = declared
        }
        let maskKey = UInt32(littleEndian: frame.loadUnaligned(fromByteOffset: headerLength &- 4, as: UInt32.self))
        return .header(
            FrameHeader(
                fin: fin,
                opcode: opcode,
                headerLength: headerLength,
                payloadLength: payloadLength,
                maskKey: maskKey
            )
        )
    }

    /// Fragmentation and size rules, checked before the payload is waited for.
    @inline(__always)
    private func checkMessageRules(_ header: FrameHeader) -> Violation? {
        switch header.opcode {
        case .close, .ping, .pong:
            return nil
        case .text, .binary:
            if fragmentedOpcode != nil {
                return .dataFrameInsideFragmentedMessage
            }
            if header.payloadLength > UInt64(maxMessageBytes) {
                return .messageTooBig
            }
            if !header.fin && maxFragments < 2 {
                return .tooManyFragments
            }
            return nil
        case .continuation:
            guard fragmentedOpcode != nil else {
                return .continuationWithoutMessage
            }
            if fragmentCount >= maxFragments {
                return .tooManyFragments
            }
            let received = reassembly?.readableBytes ?? 0
            if header.payloadLength > UInt64(maxMessageBytes &- received) {
                return .messageTooBig
            }
            return nil
        }
    }

    /// Feeds one fragment of a text message to the carried-over validator: fails at the fragment holding the
    /// first bad byte, and at the final fragment if it ends inside a character.
    private mutating func validateFragment(_ payload: WebSocketPayload, isFinal: Bool) -> Violation? {
        guard textValidator.feed(payload.bytes, maskKey: payload.maskKey) else {
            return .invalidUTF8
        }
        if isFinal && !textValidator.isAtCharacterBoundary {
            return .textEndsInsideCharacter
        }
        return nil
    }

    /// Unmasks a fragment's payload onto the end of the reassembly buffer.
    private mutating func appendToReassembly(_ payload: WebSocketPayload) {
        if reassembly == nil {
            reassembly = ByteBufferAllocator().buffer(capacity: payload.count)
        }
        let count = payload.count
        guard count > 0 else { return }
        // Hot path: `reassembly` was made non-nil just above (and is only reset once a message completes).
        reassembly!.writeWithUnsafeMutableBytes(minimumWritableBytes: count) { destination in
            WebSocketMask.copyUnmasking(payload.bytes, maskKey: payload.maskKey, into: destination)
            return count
        }
    }

    /// Delivers the completed fragmented message; forgets it only when consumed. Hot path: called only
    /// once the last fragment was appended, so `reassembly` is non-nil throughout.
    private mutating func deliverReassembledMessage(
        _ onEvent: (WebSocketEvent) -> WebSocketEventDisposition
    ) -> WebSocketEventDisposition {
        let isText = fragmentedOpcode == .text
        let disposition = reassembly!.withUnsafeReadableBytes { bytes in
            let payload = WebSocketPayload(bytes: bytes, maskKey: 0)
            return onEvent(isText ? .text(payload) : .binary(payload))
        }
        guard disposition == .consumed else { return disposition }
        hasCompletedMessage = false
        fragmentedOpcode = nil
        fragmentCount = 0
        if reassembly!.capacity > Self.retainedReassemblyCapacity {
            reassembly = nil
        } else {
            reassembly!.clear()
        }
        return disposition
    }

    /// Validates a close payload (RFC 6455 §5.5.1, §7.4) and extracts its code.
    private static func parseClose(_ payload: WebSocketPayload) -> CloseParse {
        switch payload.count {
        case 0:
            return .valid(nil)
        case 1:
            return .violation(.oneByteClosePayload)
        default:
            let code = WebSocketCloseCode(
                rawValue: UInt16(payload.unmaskedByte(at: 0)) << 8 | UInt16(payload.unmaskedByte(at: 1))
            )
            guard code.isValidOnWire else {
                return .violation(.invalidCloseCode(code.rawValue))
            }
            var validator = UTF8Validator()
            let reason = UnsafeRawBufferPointer(rebasing: payload.bytes[2...])
            guard validator.feed(reason, maskKey: payload.maskKey, maskOffset: 2), validator.isAtCharacterBoundary
            else {
                return .violation(.invalidCloseReason)
            }
            return .valid(code)
        }
    }

    /// The close code and reason to report for a violation. Kept out of line: only a misbehaving peer
    /// gets here, and this is the only place reason strings are built.
    @inline(never)
    private func outcome(for violation: Violation) -> WebSocketReadOutcome {
        switch violation {
        case .reservedBits:
            .violation(.protocolError, reason: "reserved bits RSV1-3 set, but no extension was negotiated")
        case .unknownOpcode(let opcode):
            .violation(.protocolError, reason: "unknown opcode \(opcode)")
        case .unmasked:
            .violation(.protocolError, reason: "client frame is not masked")
        case .fragmentedControlFrame:
            .violation(.protocolError, reason: "control frame is fragmented")
        case .controlFrameTooLong:
            .violation(.protocolError, reason: "control frame payload is longer than 125 bytes")
        case .lengthTopBitSet:
            .violation(.protocolError, reason: "64-bit payload length has its most significant bit set")
        case .dataFrameInsideFragmentedMessage:
            .violation(.protocolError, reason: "new data frame while a fragmented message is in progress")
        case .continuationWithoutMessage:
            .violation(.protocolError, reason: "continuation frame without a message in progress")
        case .messageTooBig:
            .violation(.messageTooBig, reason: "message is larger than \(maxMessageBytes) bytes")
        case .tooManyFragments:
            .violation(.messageTooBig, reason: "message has more than \(maxFragments) fragments")
        case .invalidUTF8:
            .violation(.invalidFramePayloadData, reason: "text message is not valid UTF-8")
        case .textEndsInsideCharacter:
            .violation(.invalidFramePayloadData, reason: "text message ends inside a UTF-8 character")
        case .oneByteClosePayload:
            .violation(.protocolError, reason: "close frame payload of 1 byte")
        case .invalidCloseCode(let code):
            .violation(.protocolError, reason: "invalid close code \(code)")
        case .invalidCloseReason:
            .violation(.invalidFramePayloadData, reason: "close reason is not valid UTF-8")
        }
    }
}
