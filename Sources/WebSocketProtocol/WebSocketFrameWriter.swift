import NIOCore

/// Writes server-to-client frames (never masked, always FIN) straight into an outbound `ByteBuffer`.
///
/// Static functions over a caller-owned buffer, so replies (pongs, acks, closes) can be batched into one
/// buffer per flush without any per-frame object.
public enum WebSocketFrameWriter {
    /// Largest payload of a control frame (RFC 6455 §5.5).
    public static let maxControlPayloadLength = 125

    /// Largest close reason that fits next to the 2-byte code.
    public static let maxCloseReasonLength = maxControlPayloadLength - 2

    /// Appends a complete frame. `maskKey` is the mask of `payload` as it sits in memory (0 for plain bytes):
    /// it is removed while copying, so a received payload can be echoed (e.g. ping → pong) without a scratch copy.
    /// A control frame's payload must be at most 125 bytes.
    public static func writeFrame(
        opcode: WebSocketOpcode,
        payload: UnsafeRawBufferPointer,
        maskKey: UInt32,
        into buffer: inout ByteBuffer
    ) {
        let count = payload.count
        buffer.reserveCapacity(minimumWritableBytes: 10 + count)
        writeFrameHeader(opcode: opcode, payloadLength: count, into: &buffer)
        guard count > 0 else { return }
        buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: count) { destination in
            WebSocketMask.copyUnmasking(payload, maskKey: maskKey, into: destination)
            return count
        }
    }

    /// Appends the header of a final text frame; the caller writes exactly `payloadLength` bytes next.
    /// Lets a payload be produced directly into the buffer (e.g. serialized JSON) without a staging copy.
    public static func writeTextFrameHeader(payloadLength: Int, into buffer: inout ByteBuffer) {
        writeFrameHeader(opcode: .text, payloadLength: payloadLength, into: &buffer)
    }

    /// Appends the header of a final, unmasked frame with the shortest length form (7, 16 or 64 bits).
    public static func writeFrameHeader(opcode: WebSocketOpcode, payloadLength: Int, into buffer: inout ByteBuffer) {
        precondition(payloadLength >= 0, "negative payload length")
        precondition(
            !opcode.isControl || payloadLength <= maxControlPayloadLength,
            "control frame payload longer than 125 bytes"
        )
        let byte0 = 0x80 | opcode.rawValue
        if payloadLength < 126 {
            buffer.writeInteger(UInt16(byte0) << 8 | UInt16(payloadLength))
        } else if payloadLength <= 0xFFFF {
            buffer.writeInteger(UInt16(byte0) << 8 | 126)
            buffer.writeInteger(UInt16(payloadLength))
        } else {
            buffer.writeInteger(UInt16(byte0) << 8 | 127)
            buffer.writeInteger(UInt64(payloadLength))
        }
    }

    /// Appends a close frame with `code` and `reason`, the reason cut at a UTF-8 character boundary so the
    /// payload stays within 125 bytes (a peer would reject a longer control frame or a split character).
    public static func writeClose(code: WebSocketCloseCode, reason: String, into buffer: inout ByteBuffer) {
        var reason = reason
        reason.withUTF8 { utf8 in
            let keptLength = utf8PrefixLength(utf8, limit: maxCloseReasonLength)
            writeFrameHeader(opcode: .close, payloadLength: 2 + keptLength, into: &buffer)
            buffer.writeInteger(code.rawValue)
            buffer.writeBytes(UnsafeRawBufferPointer(UnsafeBufferPointer(rebasing: utf8[..<keptLength])))
        }
    }

    /// Appends a close frame with no payload: the answer to a peer's close that carried no code
    /// (echoing a code the peer did not send would misreport why it closed).
    public static func writeEmptyClose(into buffer: inout ByteBuffer) {
        writeFrameHeader(opcode: .close, payloadLength: 0, into: &buffer)
    }

    /// Length of the longest prefix of valid UTF-8 `utf8` that is at most `limit` bytes and ends between characters.
    static func utf8PrefixLength(_ utf8: UnsafeBufferPointer<UInt8>, limit: Int) -> Int {
        guard utf8.count > limit else { return utf8.count }
        var length = limit
        // Back off while the first dropped byte is a continuation byte (10xxxxxx) of a kept character.
        while length > 0 && utf8[length] & 0xC0 == 0x80 {
            length -= 1
        }
        return length
    }
}
