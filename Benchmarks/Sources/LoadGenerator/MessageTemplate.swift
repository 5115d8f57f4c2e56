/// The canonical chat message of one (virtual) connection, built once: `{"sender":"bench-<conn>",
/// "text":"<seq> xxx…","tag":"bench"}`. Only the sequence digits change from message to message, so
/// senders copy the template and patch a dozen bytes instead of formatting JSON per message.
///
/// The sequence field has a fixed width (digits, one space, then `x` up to the width), and the padding
/// after it is chosen per connection so that every message of a run has exactly the same length.
///
/// With `withID` every message also has an `"id"` of a reference client's shape (a 12-character prefix
/// and a counter), the same in every message: enough to measure what `kafka.message_id_header` costs the
/// daemon, whose work per id does not depend on its value.
struct MessageTemplate: Sendable {
    static let prefix = #"{"sender":"bench-"#
    static let middle = #"","text":""#
    static let suffix = #"","tag":"bench"}"#
    static let suffixWithID = #"","tag":"bench","id":"3f9c2a7d41b0-1000000"}"#
    /// Up to 11 digits and a space.
    static let sequenceWidth = 12

    let bytes: [UInt8]
    /// Where the sequence field starts in `bytes`.
    let sequenceOffset: Int

    init(connection: Int, size: Int, connections: Int, withID: Bool = false) {
        let length = Self.payloadLength(size: size, connections: connections, withID: withID)
        var bytes = Array((Self.prefix + String(connection) + Self.middle).utf8)
        self.sequenceOffset = bytes.count
        let padding = length - Self.fixedLength(connectionDigits: String(connection).utf8.count, withID: withID)
        bytes += [UInt8](repeating: UInt8(ascii: "x"), count: Self.sequenceWidth + padding)
        bytes += Array((withID ? Self.suffixWithID : Self.suffix).utf8)
        precondition(bytes.count == length)
        self.bytes = bytes
    }

    /// Length of every payload in the run: `size`, or the shortest message that fits the widest
    /// connection number and a full sequence field.
    static func payloadLength(size: Int, connections: Int, withID: Bool = false) -> Int {
        let widest = String(max(0, connections - 1)).utf8.count
        return max(size, Self.fixedLength(connectionDigits: widest, withID: withID))
    }

    private static func fixedLength(connectionDigits: Int, withID: Bool) -> Int {
        Self.prefix.utf8.count + connectionDigits + Self.middle.utf8.count + Self.sequenceWidth
            + (withID ? Self.suffixWithID : Self.suffix).utf8.count
    }

    /// Writes `sequence` as decimal digits and a space at `field`, XORed with the 4-byte `mask` whose
    /// phase at `field` is `maskPhase` (payload offset & 3). `mask` 0 writes plain text.
    @inline(__always)
    static func patchSequence(_ sequence: Int, at field: UnsafeMutablePointer<UInt8>, mask: UInt32, maskPhase: Int) {
        var digits = 1
        var rest = sequence / 10
        while rest > 0 {
            digits += 1
            rest /= 10
        }
        var value = sequence
        var position = digits - 1
        while position >= 0 {
            let digit = UInt8(truncatingIfNeeded: 48 + value % 10)
            value /= 10
            field[position] = digit ^ Self.maskByte(mask, phase: maskPhase + position)
            position -= 1
        }
        field[digits] = UInt8(ascii: " ") ^ Self.maskByte(mask, phase: maskPhase + digits)
    }

    /// Byte `phase & 3` of the mask in wire order (the mask is stored big-endian: first wire byte highest).
    @inline(__always)
    static func maskByte(_ mask: UInt32, phase: Int) -> UInt8 {
        UInt8(truncatingIfNeeded: mask >> (24 - 8 * UInt32(phase & 3)))
    }
}
