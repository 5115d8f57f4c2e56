/// Layout of a record header in a `TopicRing` arena and the encoding of its commit word.
///
/// A record is `[commit word: 8][opaque: 8][payload][zero padding to a multiple of 8]`, starting on an
/// 8-byte boundary. The commit word is the only field accessed atomically: producers publish a record by
/// release-storing it last, the consumer acquire-loads it first. Zero means "not committed"; every committed
/// value has `committedBit` set, so a committed word is never zero.
///
/// Commit word bits: 0...29 payload length, 30 padding flag, 31 committed flag, 32...63 tag.
/// A padding record has no length: it always runs to the end of the arena, so the consumer can derive it.
enum RingHeader {
    /// Header bytes in front of the payload (commit word + opaque).
    static let size = 16
    /// Byte offset of the opaque value inside the header.
    static let opaqueOffset = 8
    /// Records (and therefore commit words) start on this boundary, so the atomic word is naturally aligned.
    static let alignment = 8

    static let committedBit: UInt64 = 1 << 31
    static let paddingBit: UInt64 = 1 << 30
    static let lengthMask: UInt64 = (1 << 30) - 1
    /// The length field's limit, independent of the ring's capacity.
    static let maxEncodablePayload = Int(lengthMask)

    /// Commit word of a padding record (fills the arena from its position to the end).
    static let padding: UInt64 = committedBit | paddingBit

    /// Arena bytes one record with `payloadCount` payload bytes occupies.
    @inline(__always)
    static func recordBytes(payloadCount: Int) -> Int {
        (size + payloadCount + alignment - 1) & ~(alignment - 1)
    }

    @inline(__always)
    static func committed(payloadCount: Int, tag: UInt32) -> UInt64 {
        UInt64(tag) << 32 | committedBit | UInt64(payloadCount)
    }

    @inline(__always)
    static func isCommitted(_ word: UInt64) -> Bool { word & committedBit != 0 }

    @inline(__always)
    static func isPadding(_ word: UInt64) -> Bool { word & paddingBit != 0 }

    @inline(__always)
    static func payloadCount(_ word: UInt64) -> Int { Int(word & lengthMask) }

    @inline(__always)
    static func tag(_ word: UInt64) -> UInt32 { UInt32(truncatingIfNeeded: word >> 32) }
}
