import NIOCore

/// A payload as it sits in memory, possibly still masked.
///
/// Handing out the masked bytes plus the key (instead of unmasking first) keeps single-frame messages
/// zero-copy: the consumer unmasks while it copies or validates, in the same pass.
/// The pointer is only valid during the callback that received it.
public struct WebSocketPayload {
    /// The payload bytes; XOR with `maskKey` (see `WebSocketMask`) to get the real bytes.
    public let bytes: UnsafeRawBufferPointer
    /// 0 when `bytes` are plain.
    public let maskKey: UInt32

    @inlinable
    public init(bytes: UnsafeRawBufferPointer, maskKey: UInt32) {
        self.bytes = bytes
        self.maskKey = maskKey
    }

    @inlinable
    public var count: Int {
        bytes.count
    }

    /// The real (unmasked) byte at `offset`.
    @inlinable
    public func unmaskedByte(at offset: Int) -> UInt8 {
        bytes[offset] ^ WebSocketMask.byte(of: maskKey, at: offset)
    }

    /// Copies the real bytes to the start of `destination`, which must hold at least `count` bytes.
    public func copyUnmasked(into destination: UnsafeMutableRawBufferPointer) {
        WebSocketMask.copyUnmasking(bytes, maskKey: maskKey, into: destination)
    }

    /// Appends the real bytes to `buffer`.
    public func writeUnmasked(into buffer: inout ByteBuffer) {
        let count = bytes.count
        guard count > 0 else { return }
        buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: count) { destination in
            WebSocketMask.copyUnmasking(bytes, maskKey: maskKey, into: destination)
            return count
        }
    }
}
