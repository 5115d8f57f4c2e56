import NIOCore

/// Writes JSON string literals into a `ByteBuffer` (error messages, Kafka error text), escaping what
/// JSON requires so that replies always parse.
enum JSONText {
    static func writeString(_ string: String, into buffer: inout ByteBuffer) {
        buffer.writeInteger(UInt8(ascii: "\""))
        for byte in string.utf8 {
            switch byte {
            case UInt8(ascii: "\""): buffer.writeStaticString("\\\"")
            case UInt8(ascii: "\\"): buffer.writeStaticString("\\\\")
            case 0x0A: buffer.writeStaticString("\\n")
            case 0x0D: buffer.writeStaticString("\\r")
            case 0x09: buffer.writeStaticString("\\t")
            case 0..<0x20:
                buffer.writeStaticString("\\u00")
                buffer.writeInteger(self.hexDigit(byte >> 4))
                buffer.writeInteger(self.hexDigit(byte & 0xF))
            default: buffer.writeInteger(byte)
            }
        }
        buffer.writeInteger(UInt8(ascii: "\""))
    }

    /// Decimal digits of an integer, without going through `String`.
    static func writeInteger<T: BinaryInteger>(_ value: T, into buffer: inout ByteBuffer) {
        if value < 0 {
            buffer.writeInteger(UInt8(ascii: "-"))
            self.writeInteger(UInt64(-Int64(value)), into: &buffer)
            return
        }
        var magnitude = UInt64(value)
        var digits: (UInt64, UInt64, UInt64) = (0, 0, 0)  // up to 24 digits, no allocation
        var count = 0
        withUnsafeMutableBytes(of: &digits) { raw in
            repeat {
                raw[23 - count] = UInt8(ascii: "0") + UInt8(magnitude % 10)
                magnitude /= 10
                count += 1
            } while magnitude > 0
            buffer.writeBytes(UnsafeRawBufferPointer(rebasing: raw[(24 - count)...]))
        }
    }

    private static func hexDigit(_ value: UInt8) -> UInt8 {
        value < 10 ? UInt8(ascii: "0") + value : UInt8(ascii: "a") + value - 10
    }
}
