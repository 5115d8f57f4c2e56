/// The scan behind `ChatMessageValidator.validate`: a strict RFC 8259 scanner that records where the
/// contract's fields are. The payload's UTF-8 is checked as a whole before it runs (`ByteKernels`), so
/// inside strings bytes from 0x80 up are plain; outside strings only ASCII is accepted.
///
/// It never builds values: strings and numbers are only checked and measured, unknown values are
/// skipped with an explicit depth counter (no recursion, so hostile nesting cannot hit the stack),
/// and nothing is allocated unless a failure has to be described.
///
/// Generic over the per-byte work so that the fuzz targets can run the reference kernels through the very
/// same grammar; the daemon's instance (`VectorByteKernels`) is specialised, so this costs nothing.
struct ChatMessageScanner<Kernels: ByteKernels> {
    static var maxNestingDepth: Int { ChatMessageValidator.maxNestingDepth }
    static var maxIDByteCount: Int { ChatMessageValidator.maxIDByteCount }

    // Internal, not private: the scanner's grammar is split over several files (one per part of the
    // grammar), all extensions of this struct; nothing outside the module sees the scanner.
    let input: MaskedPayload
    let end: Int
    var position = 0
    /// The client's `id`, kept as soon as it is fully read so that a later failure can echo it.
    private(set) var id: TokenSpan?

    /// A scanner of `input`'s first `end` bytes (all of them unless given).
    init(_ input: MaskedPayload, end: Int? = nil) {
        self.input = input
        self.end = end ?? input.count
    }

    // MARK: - The message object

    /// Scans the whole input as one chat message object.
    mutating func scanMessage() throws(ChatScanFailure) -> ChatMessage {
        skipWhitespace()
        guard position < end else {
            throw invalidJSON(end == 0 ? "the message is empty" : "the message holds only whitespace")
        }
        guard input.byte(position) == UInt8(ascii: "{") else {
            try scanNonObjectMessage()
        }
        position &+= 1

        var sender: TokenSpan?
        var text: TokenSpan?
        var tag: TokenSpan?
        var seen: UInt8 = 0
        // Field rules are only reported once the whole input is known to be valid JSON.
        var fieldProblem: ChatScanFailure?

        skipWhitespace()
        if position < end, input.byte(position) == UInt8(ascii: "}") {
            position &+= 1
        } else {
            while true {
                guard position < end, input.byte(position) == UInt8(ascii: "\"") else {
                    throw unexpected(at: position, expecting: "a field name (a string)")
                }
                let keyStart = position
                let field: ChatField
                if keyStart &+ 8 <= end, let known = ChatField(plainKeyWord: input.word(keyStart)) {
                    field = known
                    position = keyStart &+ known.plainTokenCount
                } else {
                    let keyEscaped = try scanString()
                    field = ChatField(
                        key: TokenSpan(start: keyStart, count: position &- keyStart),
                        escaped: keyEscaped,
                        in: input
                    )
                }
                try scanColon()

                let valueStart = position
                let kind: JSONValueKind
                if position < end, input.byte(position) == UInt8(ascii: "\"") {
                    _ = try scanString()
                    kind = .string
                } else {
                    kind = try scanValue()
                }
                let value = TokenSpan(start: valueStart, count: position &- valueStart)
                if field != .other {
                    if seen & field.bit != 0 {
                        if fieldProblem == nil {
                            fieldProblem = fieldFailure(
                                .duplicateField,
                                "field \"\(field.name)\" appears more than once (again at byte \(keyStart))"
                            )
                        }
                    } else if field == .id {
                        if kind != .string && kind != .number {
                            if fieldProblem == nil {
                                fieldProblem = fieldFailure(
                                    .invalidID,
                                    "field \"id\" must be a string or a number, got \(kind.phrase) at byte \(valueStart)"
                                )
                            }
                        } else if value.count > Self.maxIDByteCount {
                            if fieldProblem == nil {
                                fieldProblem = fieldFailure(
                                    .invalidID,
                                    "field \"id\" is \(value.count) bytes long at byte \(valueStart), at most \(Self.maxIDByteCount) are allowed"
                                )
                            }
                        } else {
                            id = value
                        }
                    } else if kind != .string {
                        if fieldProblem == nil {
                            fieldProblem = fieldFailure(
                                .wrongType,
                                "field \"\(field.name)\" must be a string, got \(kind.phrase) at byte \(valueStart)"
                            )
                        }
                    } else {
                        switch field {
                        case .sender: sender = value
                        case .text: text = value
                        default: tag = value
                        }
                    }
                    seen |= field.bit
                }

                skipWhitespace()
                guard position < end else { throw unexpected(at: position, expecting: "',' or '}'") }
                let separator = input.byte(position)
                position &+= 1
                if separator == UInt8(ascii: "}") { break }
                guard separator == UInt8(ascii: ",") else {
                    throw unexpected(at: position &- 1, expecting: "',' or '}'")
                }
                skipWhitespace()
            }
        }

        skipWhitespace()
        guard position == end else {
            throw unexpected(at: position, expecting: "nothing after the message object")
        }
        if let fieldProblem { throw fieldProblem }
        guard let sender else { throw fieldFailure(.missingField, "field \"sender\" is missing") }
        guard let text else { throw fieldFailure(.missingField, "field \"text\" is missing") }
        guard let tag else { throw fieldFailure(.missingField, "field \"tag\" is missing") }
        return ChatMessage(sender: sender, text: text, tag: tag, id: id)
    }

    /// The top-level value is not an object: tell whether it is some other valid JSON value (not an
    /// object) or not JSON at all (invalid JSON wins).
    mutating func scanNonObjectMessage() throws(ChatScanFailure) -> Never {
        switch input.byte(position) {
        case UInt8(ascii: "["), UInt8(ascii: "\""), UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"),
            UInt8(ascii: "t"), UInt8(ascii: "f"), UInt8(ascii: "n"):
            break
        default:
            throw unexpected(at: position, expecting: "'{'")
        }
        let kind = try scanValue()
        skipWhitespace()
        guard position == end else {
            throw unexpected(at: position, expecting: "nothing after the top-level value")
        }
        throw fieldFailure(.notAnObject, "the message must be a JSON object, got \(kind.phrase)")
    }
}
