/// The RFC 6455 client-to-server XOR mask, in the convention shared by all modules of the daemon.
///
/// A mask key is a `UInt32` holding the four mask bytes in wire order loaded little-endian, so the mask
/// byte for payload offset `i` is `UInt8(truncatingIfNeeded: maskKey >> ((i & 3) * 8))`; key 0 means
/// "plain bytes". Keeping the key as one integer lets consumers unmask lazily (a validator reading masked
/// bytes in place, a copy into a ring) instead of unmasking every payload up front.
public enum WebSocketMask {
    /// The key for a slice that starts `offset` bytes into a payload, so the slice can be treated as
    /// starting at offset 0 (e.g. a close reason after its 2-byte code).
    @inlinable @inline(__always)
    public static func rotated(_ maskKey: UInt32, byOffset offset: Int) -> UInt32 {
        let shift = UInt32(truncatingIfNeeded: (offset & 3) &* 8)
        return shift == 0 ? maskKey : (maskKey >> shift) | (maskKey << (32 &- shift))
    }

    /// The mask byte applied at payload offset `offset`.
    @inlinable @inline(__always)
    public static func byte(of maskKey: UInt32, at offset: Int) -> UInt8 {
        UInt8(truncatingIfNeeded: maskKey >> UInt32(truncatingIfNeeded: (offset & 3) &* 8))
    }

    /// Copies `source` to the start of `destination`, removing the mask.
    ///
    /// `maskOffset` is the payload offset of `source`'s first byte. Works 8 bytes at a time with the key
    /// widened to 64 bits, because this copy is the per-byte cost of every reassembled message.
    /// `destination` may be the same memory as `source` (in-place unmasking).
    public static func copyUnmasking(
        _ source: UnsafeRawBufferPointer,
        maskKey: UInt32,
        maskOffset: Int = 0,
        into destination: UnsafeMutableRawBufferPointer
    ) {
        let count = source.count
        precondition(destination.count >= count, "destination is smaller than source")
        guard count > 0, let src = source.baseAddress, let dst = destination.baseAddress else { return }
        let key = rotated(maskKey, byOffset: maskOffset)
        if key == 0 {
            if UnsafeRawPointer(dst) != src {
                dst.copyMemory(from: src, byteCount: count)
            }
            return
        }
        // Little-endian word values put the byte at the lowest address in the lowest bits,
        // which is where the key keeps the mask byte for offset 0.
        let wideKey = UInt64(key) | (UInt64(key) << 32)
        var index = 0
        while count &- index >= 8 {
            let word = UInt64(littleEndian: src.loadUnaligned(fromByteOffset: index, as: UInt64.self))
            dst.storeBytes(of: (word ^ wideKey).littleEndian, toByteOffset: index, as: UInt64.self)
            index &+= 8
        }
        while index < count {
            let byte = src.load(fromByteOffset: index, as: UInt8.self) ^ Self.byte(of: key, at: index)
            dst.storeBytes(of: byte, toByteOffset: index, as: UInt8.self)
            index &+= 1
        }
    }
}
