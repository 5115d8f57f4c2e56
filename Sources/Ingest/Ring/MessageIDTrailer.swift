import ChatContract

/// How a ring record carries the message's `id` to the producer thread when `kafka.message_id_header` is
/// set: `value | id token | id token length (UInt32, little endian)`. The value stays first, so the record
/// key (`TopicBuffer.withKey`) reads it at the same offsets either way; a message without an id carries a
/// length of 0 and gets no header.
///
/// A trailer instead of the record's tag: the tag already holds the sender key's length, and ids are rare
/// enough to cost 4 bytes of ring space only when the option is on.
public enum MessageIDTrailer {
    /// Bytes of the length field.
    public static let lengthBytes = 4

    /// The ring payload size for a value of `valueCount` bytes and an id token of `idCount` bytes.
    @inlinable
    public static func recordCount(valueCount: Int, idCount: Int) -> Int {
        valueCount + idCount + Self.lengthBytes
    }

    /// Writes the id token (unmasking it) and the length after the `valueCount` bytes of value already in
    /// `destination`.
    @inlinable
    public static func write(
        id: TokenSpan?,
        from payload: UnsafeRawBufferPointer,
        maskKey: UInt32,
        after valueCount: Int,
        to destination: UnsafeMutableRawBufferPointer
    ) {
        var idCount = 0
        if let id, id.count > 0 {
            ChatMessageValidator.copyToken(
                id,
                from: payload,
                maskKey: maskKey,
                to: destination.baseAddress! + valueCount
            )
            idCount = id.count
        }
        destination.storeBytes(of: UInt32(idCount).littleEndian, toByteOffset: valueCount + idCount, as: UInt32.self)
    }

    /// Splits a record written by `write` into the value and the id token (empty when the message had none).
    @inline(__always)
    static func split(_ payload: UnsafeRawBufferPointer) -> (value: UnsafeRawBufferPointer, id: UnsafeRawBufferPointer)
    {
        let lengthStart = payload.count - Self.lengthBytes
        let idCount = UInt32(littleEndian: payload.loadUnaligned(fromByteOffset: lengthStart, as: UInt32.self))
        let valueCount = lengthStart - Int(idCount)
        return (
            UnsafeRawBufferPointer(rebasing: payload[..<valueCount]),
            UnsafeRawBufferPointer(rebasing: payload[valueCount..<lengthStart])
        )
    }

    /// The header value of an id token: a string's content (escapes resolved; allocates only then) or a
    /// number's digits as sent.
    static func withHeaderValue<R>(ofIDToken token: UnsafeRawBufferPointer, _ body: (UnsafeRawBufferPointer) -> R) -> R
    {
        guard token.count >= 2, token[0] == UInt8(ascii: "\"") else { return body(token) }
        let content = UnsafeRawBufferPointer(rebasing: token[1..<(token.count - 1)])
        if content.contains(UInt8(ascii: "\\")) {
            return JSONStringDecoding.decodedContent(ofToken: token).withUnsafeBytes { body($0) }
        }
        return body(content)
    }
}
