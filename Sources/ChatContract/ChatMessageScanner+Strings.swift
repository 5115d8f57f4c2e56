/// JSON strings (RFC 8259 §7): escapes and the search for the bytes that end a plain run.
extension ChatMessageScanner {
    /// Scans the string token whose opening quote is at `position`, checking escapes, and leaves
    /// `position` after the closing quote. Returns whether the string holds a backslash.
    @inline(__always)
    mutating func scanString() throws(ChatScanFailure) -> Bool {
        let start = position
        var i = start &+ 1
        var escaped = false
        while true {
            i = Kernels.endOfPlainRun(in: input, from: i, to: end)
            guard i < end else {
                throw invalidJSON("unterminated string starting at byte \(start)")
            }
            let byte = input.byte(i)
            if byte == UInt8(ascii: "\"") {
                position = i &+ 1
                return escaped
            } else if byte == UInt8(ascii: "\\") {
                escaped = true
                i = try endOfEscape(at: i)
            } else {
                throw invalidJSON(
                    "raw control character \(Self.hex(byte)) in a string at byte \(i) (it must be escaped)"
                )
            }
        }
    }

    /// Checks the escape whose backslash is at `offset` and returns the offset just past it.
    /// A `\u` high surrogate must be followed at once by a `\u` low surrogate.
    @inline(__always)
    func endOfEscape(at offset: Int) throws(ChatScanFailure) -> Int {
        guard offset &+ 1 < end else {
            throw invalidJSON("unterminated escape at byte \(offset)")
        }
        switch input.byte(offset &+ 1) {
        case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"), UInt8(ascii: "b"), UInt8(ascii: "f"),
            UInt8(ascii: "n"), UInt8(ascii: "r"), UInt8(ascii: "t"):
            return offset &+ 2
        case UInt8(ascii: "u"):
            let unit = hexUnit(at: offset &+ 2)
            guard unit <= 0xFFFF else {
                throw invalidJSON("invalid \\u escape at byte \(offset) (it needs four hex digits)")
            }
            switch unit {
            case 0xD800...0xDBFF:
                guard offset &+ 12 <= end, input.byte(offset &+ 6) == UInt8(ascii: "\\"),
                    input.byte(offset &+ 7) == UInt8(ascii: "u"), 0xDC00...0xDFFF ~= hexUnit(at: offset &+ 8)
                else {
                    throw invalidJSON(
                        "lone surrogate escape \\u\(Self.hex4(unit)) at byte \(offset) (a high surrogate must be followed by a \\u low surrogate)"
                    )
                }
                return offset &+ 12
            case 0xDC00...0xDFFF:
                throw invalidJSON(
                    "lone surrogate escape \\u\(Self.hex4(unit)) at byte \(offset) (a low surrogate must follow a high one)"
                )
            default:
                return offset &+ 6
            }
        default:
            throw invalidJSON(
                "invalid escape at byte \(offset): \(Self.describe(input.byte(offset &+ 1))) after '\\' (allowed: \\\" \\\\ \\/ \\b \\f \\n \\r \\t \\uXXXX)"
            )
        }
    }

    /// The value of the four hex digits at `offset`, or a value above 0xFFFF if they are not four hex digits.
    @inline(__always)
    func hexUnit(at offset: Int) -> UInt32 {
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
}
