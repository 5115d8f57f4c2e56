/// JSON strings (RFC 8259 §7): escapes, UTF-8 inside strings, and the word-at-a-time search for the
/// bytes that end a plain run.
extension ChatMessageScanner {
    /// Scans the string token whose opening quote is at `position`, checking escapes and UTF-8, and
    /// leaves `position` after the closing quote. Returns whether the string holds a backslash.
    @inline(__always)
    mutating func scanString() throws(ChatScanFailure) -> Bool {
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
                    "raw control character \(Self.hex(byte)) in a string at byte \(i) (it must be escaped)",
                    at: i
                )
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
    static func specialBytes(in word: UInt64) -> UInt64 {
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
    func endOfEscape(at offset: Int) throws(ChatScanFailure) -> Int {
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
                        at: offset
                    )
                }
                return offset &+ 12
            case 0xDC00...0xDFFF:
                throw invalidJSON(
                    "lone surrogate escape \\u\(Self.hex4(unit)) at byte \(offset) (a low surrogate must follow a high one)",
                    at: offset
                )
            default:
                return offset &+ 6
            }
        default:
            throw invalidJSON(
                "invalid escape at byte \(offset): \(Self.describe(input.byte(offset &+ 1))) after '\\' (allowed: \\\" \\\\ \\/ \\b \\f \\n \\r \\t \\uXXXX)",
                at: offset
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
