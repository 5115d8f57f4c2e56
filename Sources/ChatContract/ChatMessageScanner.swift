/// The single pass behind `ChatMessageValidator.validate`: a strict RFC 8259 scanner that checks
/// UTF-8 inside strings as it goes and records where the contract's fields are.
///
/// It never builds values: strings and numbers are only checked and measured, unknown values are
/// skipped with an explicit depth counter (no recursion, so hostile nesting cannot hit the stack),
/// and nothing is allocated unless a failure has to be described.
///
/// Outside strings only ASCII is accepted, and inside strings every multi-byte sequence is
/// validated as a whole, so whenever the scanner stops, everything before its position is valid
/// UTF-8 and the position is at a character boundary.
struct ChatMessageScanner {
    /// Deepest nesting of arrays and objects allowed inside one unknown field's value.
    static let maxNestingDepth = 64
    /// Longest `id` token (quotes included) the gateway is willing to echo back in acks.
    static let maxIDByteCount = 256

    private let input: MaskedPayload
    private let end: Int
    private var position = 0
    /// The client's `id`, kept as soon as it is fully read so that a later failure can echo it.
    private(set) var id: TokenSpan?

    init(_ input: MaskedPayload) {
        self.input = input
        self.end = input.count
    }

    // MARK: - The message object

    /// Scans the whole input as one chat message object.
    mutating func scanMessage() throws(ChatScanFailure) -> ChatMessage {
        skipWhitespace()
        guard position < end else {
            throw invalidJSON(end == 0 ? "the message is empty" : "the message holds only whitespace", at: end)
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
                        key: TokenSpan(start: keyStart, count: position &- keyStart), escaped: keyEscaped, in: input)
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
                                "field \"\(field.name)\" appears more than once (again at byte \(keyStart))")
                        }
                    } else if field == .id {
                        if kind != .string && kind != .number {
                            if fieldProblem == nil {
                                fieldProblem = fieldFailure(
                                    .invalidID,
                                    "field \"id\" must be a string or a number, got \(kind.phrase) at byte \(valueStart)")
                            }
                        } else if value.count > Self.maxIDByteCount {
                            if fieldProblem == nil {
                                fieldProblem = fieldFailure(
                                    .invalidID,
                                    "field \"id\" is \(value.count) bytes long at byte \(valueStart), at most \(Self.maxIDByteCount) are allowed")
                            }
                        } else {
                            id = value
                        }
                    } else if kind != .string {
                        if fieldProblem == nil {
                            fieldProblem = fieldFailure(
                                .wrongType,
                                "field \"\(field.name)\" must be a string, got \(kind.phrase) at byte \(valueStart)")
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
    private mutating func scanNonObjectMessage() throws(ChatScanFailure) -> Never {
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

    // MARK: - Values

    /// Scans any JSON value starting at `position` and returns its kind.
    @inline(__always)
    private mutating func scanValue() throws(ChatScanFailure) -> JSONValueKind {
        if position < end {
            let first = input.byte(position)
            if first == UInt8(ascii: "{") {
                try skipContainer()
                return .object
            }
            if first == UInt8(ascii: "[") {
                try skipContainer()
                return .array
            }
        }
        return try scanScalar()
    }

    /// Scans a string, number or literal starting at `position`.
    @inline(__always)
    private mutating func scanScalar() throws(ChatScanFailure) -> JSONValueKind {
        guard position < end else { throw unexpected(at: position, expecting: "a value") }
        switch input.byte(position) {
        case UInt8(ascii: "\""):
            _ = try scanString()
            return .string
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            try scanNumber()
            return .number
        case UInt8(ascii: "t"):
            try scanLiteral("true")
            return .boolean
        case UInt8(ascii: "f"):
            try scanLiteral("false")
            return .boolean
        case UInt8(ascii: "n"):
            try scanLiteral("null")
            return .null
        default:
            throw unexpected(at: position, expecting: "a value")
        }
    }

    /// Skips the array or object starting at `position`. Nesting is tracked with a counter and one
    /// bit per level (object or array) in a UInt64, which is exactly enough for the 64-level limit.
    private mutating func skipContainer() throws(ChatScanFailure) {
        var depth = 0
        var objectLevels: UInt64 = 0
        nextValue: while true {
            // `position` is at the start of a value.
            guard position < end else { throw unexpected(at: position, expecting: "a value") }
            let first = input.byte(position)
            if first == UInt8(ascii: "{") || first == UInt8(ascii: "[") {
                guard depth < Self.maxNestingDepth else {
                    throw invalidJSON(
                        "nesting deeper than \(Self.maxNestingDepth) levels at byte \(position)", at: position)
                }
                let isObject = first == UInt8(ascii: "{")
                let levelBit = UInt64(1) &<< UInt64(depth)
                objectLevels = isObject ? objectLevels | levelBit : objectLevels & ~levelBit
                depth &+= 1
                position &+= 1
                skipWhitespace()
                let closer = isObject ? UInt8(ascii: "}") : UInt8(ascii: "]")
                if position < end, input.byte(position) == closer {
                    position &+= 1
                    depth &-= 1
                } else {
                    if isObject { try scanMemberName() }
                    continue nextValue
                }
            } else {
                _ = try scanScalar()
            }
            // A value has ended: close finished containers until the next value starts.
            while depth > 0 {
                skipWhitespace()
                let inObject = objectLevels & (UInt64(1) &<< UInt64(depth &- 1)) != 0
                let closer = inObject ? UInt8(ascii: "}") : UInt8(ascii: "]")
                guard position < end else {
                    throw unexpected(at: position, expecting: inObject ? "',' or '}'" : "',' or ']'")
                }
                let next = input.byte(position)
                if next == UInt8(ascii: ",") {
                    position &+= 1
                    skipWhitespace()
                    if inObject { try scanMemberName() }
                    continue nextValue
                }
                guard next == closer else {
                    throw unexpected(at: position, expecting: inObject ? "',' or '}'" : "',' or ']'")
                }
                position &+= 1
                depth &-= 1
            }
            return
        }
    }

    /// Scans `"name" :` inside a skipped object and the whitespace after the colon.
    private mutating func scanMemberName() throws(ChatScanFailure) {
        guard position < end, input.byte(position) == UInt8(ascii: "\"") else {
            throw unexpected(at: position, expecting: "a field name (a string)")
        }
        _ = try scanString()
        try scanColon()
    }

    /// Scans optional whitespace, `:`, and optional whitespace.
    @inline(__always)
    private mutating func scanColon() throws(ChatScanFailure) {
        skipWhitespace()
        guard position < end, input.byte(position) == UInt8(ascii: ":") else {
            throw unexpected(at: position, expecting: "':'")
        }
        position &+= 1
        skipWhitespace()
    }

    @inline(__always)
    private mutating func skipWhitespace() {
        while position < end {
            switch input.byte(position) {
            case UInt8(ascii: " "), UInt8(ascii: "\n"), UInt8(ascii: "\r"), UInt8(ascii: "\t"):
                position &+= 1
            default:
                return
            }
        }
    }

    // MARK: - Strings

    /// Scans the string token whose opening quote is at `position`, checking escapes and UTF-8, and
    /// leaves `position` after the closing quote. Returns whether the string holds a backslash.
    @inline(__always)
    private mutating func scanString() throws(ChatScanFailure) -> Bool {
        let start = position
        var i = start &+ 1
        var escaped = false
        while true {
            // Eight bytes at a time while none of them needs a closer look.
            while i &+ 8 <= end {
                let special = Self.specialBytes(in: input.word(i))
                if special != 0 {
                    i &+= special.trailingZeroBitCount &>> 3
                    break
                }
                i &+= 8
            }
            guard i < end else {
                throw invalidJSON("unterminated string starting at byte \(start)", at: end)
            }
            let byte = input.byte(i)
            if byte == UInt8(ascii: "\"") {
                position = i &+ 1
                return escaped
            } else if byte == UInt8(ascii: "\\") {
                escaped = true
                i = try endOfEscape(at: i)
            } else if byte < 0x20 {
                throw invalidJSON(
                    "raw control character \(Self.hex(byte)) in a string at byte \(i) (it must be escaped)", at: i)
            } else if byte >= 0x80 {
                guard let next = input.endOfUTF8Sequence(at: i) else { throw invalidUTF8(at: i) }
                i = next
            } else {
                i &+= 1
            }
        }
    }

    /// A word with the high bit set in every byte lane whose byte ends a plain run inside a string:
    /// a control character, `"`, `\`, or a non-ASCII byte. The lowest flagged lane is exact (carries
    /// and borrows only run upwards from a flagged lane), which is all the caller uses.
    @inline(__always)
    private static func specialBytes(in word: UInt64) -> UInt64 {
        let ones: UInt64 = 0x0101_0101_0101_0101
        let highs: UInt64 = 0x8080_8080_8080_8080
        let control = (word &- ones &* 0x20) & ~word
        let quoteBits = word ^ (ones &* 0x22)
        let quote = (quoteBits &- ones) & ~quoteBits
        let backslashBits = word ^ (ones &* 0x5C)
        let backslash = (backslashBits &- ones) & ~backslashBits
        return (control | quote | backslash | word) & highs
    }

    /// Checks the escape whose backslash is at `offset` and returns the offset just past it.
    /// A `\u` high surrogate must be followed at once by a `\u` low surrogate.
    @inline(__always)
    private func endOfEscape(at offset: Int) throws(ChatScanFailure) -> Int {
        guard offset &+ 1 < end else {
            throw invalidJSON("unterminated escape at byte \(offset)", at: offset)
        }
        switch input.byte(offset &+ 1) {
        case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"), UInt8(ascii: "b"), UInt8(ascii: "f"),
            UInt8(ascii: "n"), UInt8(ascii: "r"), UInt8(ascii: "t"):
            return offset &+ 2
        case UInt8(ascii: "u"):
            let unit = hexUnit(at: offset &+ 2)
            guard unit <= 0xFFFF else {
                throw invalidJSON("invalid \\u escape at byte \(offset) (it needs four hex digits)", at: offset)
            }
            switch unit {
            case 0xD800...0xDBFF:
                guard offset &+ 12 <= end, input.byte(offset &+ 6) == UInt8(ascii: "\\"),
                    input.byte(offset &+ 7) == UInt8(ascii: "u"), 0xDC00...0xDFFF ~= hexUnit(at: offset &+ 8)
                else {
                    throw invalidJSON(
                        "lone surrogate escape \\u\(Self.hex4(unit)) at byte \(offset) (a high surrogate must be followed by a \\u low surrogate)",
                        at: offset)
                }
                return offset &+ 12
            case 0xDC00...0xDFFF:
                throw invalidJSON(
                    "lone surrogate escape \\u\(Self.hex4(unit)) at byte \(offset) (a low surrogate must follow a high one)",
                    at: offset)
            default:
                return offset &+ 6
            }
        default:
            throw invalidJSON(
                "invalid escape at byte \(offset): \(Self.describe(input.byte(offset &+ 1))) after '\\' (allowed: \\\" \\\\ \\/ \\b \\f \\n \\r \\t \\uXXXX)",
                at: offset)
        }
    }

    /// The value of the four hex digits at `offset`, or a value above 0xFFFF if they are not four hex digits.
    @inline(__always)
    private func hexUnit(at offset: Int) -> UInt32 {
        guard offset &+ 4 <= end else { return .max }
        var unit: UInt32 = 0
        var invalid: UInt32 = 0
        for k in 0..<4 {
            let digit = JSONStringDecoding.hexDigitValue(input.byte(offset &+ k))
            invalid |= digit & ~0xF
            unit = unit &<< 4 | (digit & 0xF)
        }
        return invalid == 0 ? unit : .max
    }

    // MARK: - Numbers and literals

    /// Scans a number per the RFC 8259 grammar: `-? (0 | [1-9][0-9]*) (.[0-9]+)? ([eE][+-]?[0-9]+)?`.
    private mutating func scanNumber() throws(ChatScanFailure) {
        let start = position
        var i = start
        if input.byte(i) == UInt8(ascii: "-") { i &+= 1 }
        guard i < end, Self.isDigit(input.byte(i)) else {
            throw unexpected(at: i, expecting: "a digit")
        }
        if input.byte(i) == UInt8(ascii: "0") {
            i &+= 1
            if i < end, Self.isDigit(input.byte(i)) {
                throw invalidJSON("number at byte \(start) has a leading zero", at: start)
            }
        } else {
            i = skipDigits(from: i)
        }
        if i < end, input.byte(i) == UInt8(ascii: ".") {
            i &+= 1
            guard i < end, Self.isDigit(input.byte(i)) else {
                throw unexpected(at: i, expecting: "a digit after '.'")
            }
            i = skipDigits(from: i)
        }
        if i < end, input.byte(i) | 0x20 == UInt8(ascii: "e") {
            i &+= 1
            if i < end, input.byte(i) == UInt8(ascii: "+") || input.byte(i) == UInt8(ascii: "-") { i &+= 1 }
            guard i < end, Self.isDigit(input.byte(i)) else {
                throw unexpected(at: i, expecting: "a digit in the exponent")
            }
            i = skipDigits(from: i)
        }
        position = i
    }

    @inline(__always)
    private func skipDigits(from offset: Int) -> Int {
        var i = offset
        while i < end, Self.isDigit(input.byte(i)) { i &+= 1 }
        return i
    }

    @inline(__always)
    private static func isDigit(_ byte: UInt8) -> Bool {
        byte &- UInt8(ascii: "0") < 10
    }

    /// Scans `true`, `false` or `null`, whose first byte has already been seen.
    private mutating func scanLiteral(_ literal: StaticString) throws(ChatScanFailure) {
        let count = literal.utf8CodeUnitCount
        let matches =
            position &+ count <= end
            && literal.withUTF8Buffer { expected in
                var k = 1
                while k < count, input.byte(position &+ k) == expected[k] { k &+= 1 }
                return k == count
            }
        guard matches else {
            throw invalidJSON("invalid literal at byte \(position) (expected \(literal))", at: position)
        }
        position &+= count
    }

    // MARK: - Failures (never on the success path)

    private func invalidJSON(_ message: String, at offset: Int) -> ChatScanFailure {
        ChatScanFailure(reason: .invalidJSON, message: message, validUTF8UpTo: offset)
    }

    private func invalidUTF8(at offset: Int) -> ChatScanFailure {
        ChatScanFailure(reason: .invalidUTF8, message: "invalid UTF-8 at byte \(offset)", validUTF8UpTo: offset)
    }

    /// A field rule was broken; the JSON itself was (or will be) read completely.
    private func fieldFailure(_ reason: ChatMessageRejection.Reason, _ message: String) -> ChatScanFailure {
        ChatScanFailure(reason: reason, message: message, validUTF8UpTo: end)
    }

    /// "expected X at byte N, found Y", or the end-of-input variant.
    private func unexpected(at offset: Int, expecting expected: String) -> ChatScanFailure {
        if offset >= end {
            return invalidJSON("unexpected end of input at byte \(offset), expected \(expected)", at: end)
        }
        return invalidJSON(
            "expected \(expected) at byte \(offset), found \(Self.describe(input.byte(offset)))", at: offset)
    }

    /// A byte as a client can read it: `'x'` when printable ASCII, `byte 0x07` otherwise.
    private static func describe(_ byte: UInt8) -> String {
        if byte >= 0x20, byte < 0x7F {
            return "'\(Character(Unicode.Scalar(byte)))'"
        }
        return "byte \(hex(byte))"
    }

    private static func hex(_ byte: UInt8) -> String {
        let digits = String(byte, radix: 16, uppercase: true)
        return byte < 0x10 ? "0x0" + digits : "0x" + digits
    }

    private static func hex4(_ unit: UInt32) -> String {
        let digits = String(unit, radix: 16, uppercase: true)
        return String(repeating: "0", count: max(0, 4 - digits.count)) + digits
    }
}
