/// Decodes a valid JSON string token's content (escapes resolved) — used off the hot path for a
/// record key, where the raw token (escapes and quotes) would not be the value the client meant.
public enum JSONStringDecoding {
    /// Returns the UTF-8 content of `token` (plain, unmasked bytes, quotes included) with every
    /// escape resolved. It is meant for tokens the validator accepted; anything else is decoded on a
    /// best-effort basis (unknown escapes kept as written, lone surrogates as U+FFFD), never trapping.
    public static func decodedContent(ofToken token: UnsafeRawBufferPointer) -> [UInt8] {
        var start = 0
        var end = token.count
        if end >= 2, token[0] == UInt8(ascii: "\""), token[end - 1] == UInt8(ascii: "\"") {
            start = 1
            end -= 1
        }
        var content: [UInt8] = []
        content.reserveCapacity(end - start)
        var i = start
        while i < end {
            let byte = token[i]
            guard byte == UInt8(ascii: "\\"), i + 1 < end else {
                content.append(byte)
                i += 1
                continue
            }
            let escape = token[i + 1]
            switch escape {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): content.append(escape)
            case UInt8(ascii: "b"): content.append(0x08)
            case UInt8(ascii: "f"): content.append(0x0C)
            case UInt8(ascii: "n"): content.append(0x0A)
            case UInt8(ascii: "r"): content.append(0x0D)
            case UInt8(ascii: "t"): content.append(0x09)
            case UInt8(ascii: "u"):
                guard let unit = hexUnit(token, at: i + 2, end: end) else {
                    content.append(byte)
                    i += 1
                    continue
                }
                var scalar = unit
                var escapeLength = 6
                if (0xD800...0xDBFF).contains(unit), i + 12 <= end, token[i + 6] == UInt8(ascii: "\\"),
                    token[i + 7] == UInt8(ascii: "u"), let low = hexUnit(token, at: i + 8, end: end),
                    (0xDC00...0xDFFF).contains(low)
                {
                    scalar = 0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00)
                    escapeLength = 12
                }
                let decoded = Unicode.Scalar(scalar) ?? "\u{FFFD}"
                UTF8.encode(decoded) { content.append($0) }
                i += escapeLength
                continue
            default:
                content.append(byte)
                i += 1
                continue
            }
            i += 2
        }
        return content
    }

    /// The value of an ASCII hex digit, or a value above 15 for any other byte (cheaper than an
    /// optional on the validator's hot path).
    @inline(__always)
    static func hexDigitValue(_ byte: UInt8) -> UInt32 {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): UInt32(byte &- UInt8(ascii: "0"))
        case UInt8(ascii: "a")...UInt8(ascii: "f"): UInt32(byte &- UInt8(ascii: "a") &+ 10)
        case UInt8(ascii: "A")...UInt8(ascii: "F"): UInt32(byte &- UInt8(ascii: "A") &+ 10)
        default: 0x100
        }
    }

    private static func hexUnit(_ token: UnsafeRawBufferPointer, at offset: Int, end: Int) -> UInt32? {
        guard offset + 4 <= end else { return nil }
        var unit: UInt32 = 0
        for k in 0..<4 {
            let digit = hexDigitValue(token[offset + k])
            guard digit < 16 else { return nil }
            unit = unit << 4 | digit
        }
        return unit
    }
}
