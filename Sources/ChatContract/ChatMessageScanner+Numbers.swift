/// JSON numbers and the literals `true`, `false`, `null` (RFC 8259 §3, §6).
extension ChatMessageScanner {
    /// Scans a number per the RFC 8259 grammar: `-? (0 | [1-9][0-9]*) (.[0-9]+)? ([eE][+-]?[0-9]+)?`.
    mutating func scanNumber() throws(ChatScanFailure) {
        let start = position
        var i = start
        if input.byte(i) == UInt8(ascii: "-") { i &+= 1 }
        guard i < end, Self.isDigit(input.byte(i)) else {
            throw unexpected(at: i, expecting: "a digit")
        }
        if input.byte(i) == UInt8(ascii: "0") {
            i &+= 1
            if i < end, Self.isDigit(input.byte(i)) {
                throw invalidJSON("number at byte \(start) has a leading zero")
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
    func skipDigits(from offset: Int) -> Int {
        var i = offset
        while i < end, Self.isDigit(input.byte(i)) { i &+= 1 }
        return i
    }

    @inline(__always)
    static func isDigit(_ byte: UInt8) -> Bool {
        byte &- UInt8(ascii: "0") < 10
    }

    /// Scans `true`, `false` or `null`, whose first byte has already been seen.
    mutating func scanLiteral(_ literal: StaticString) throws(ChatScanFailure) {
        let count = literal.utf8CodeUnitCount
        let matches =
            position &+ count <= end
            && literal.withUTF8Buffer { expected in
                var k = 1
                while k < count, input.byte(position &+ k) == expected[k] { k &+= 1 }
                return k == count
            }
        guard matches else {
            throw invalidJSON("invalid literal at byte \(position) (expected \(literal))")
        }
        position &+= count
    }
}
