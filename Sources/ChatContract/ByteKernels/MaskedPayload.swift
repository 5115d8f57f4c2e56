/// Read access to a WebSocket payload that may still be XOR-masked.
///
/// The validator works on the frame bytes as they came off the wire so that the payload is read
/// once, unmasked on the fly, instead of being unmasked in place first and then read again.
/// The real byte at offset `i` is `raw[i] ^ maskByte(i & 3)`, mask byte 0 being the key's low byte.
/// Callers keep every offset inside `0..<count`; nothing here checks bounds (hot path).
struct MaskedPayload {
    /// Start of the raw bytes; nil only when `count` is 0, in which case nothing is ever read.
    let base: UnsafeRawPointer?
    let count: Int
    /// The mask key repeated twice, so that an 8-byte word can be unmasked with one rotation.
    let mask: UInt64

    @inline(__always)
    init(_ buffer: UnsafeRawBufferPointer, maskKey: UInt32) {
        base = buffer.baseAddress
        count = buffer.count
        mask = UInt64(maskKey) | (UInt64(maskKey) &<< 32)
    }

    /// The unmasked byte at `offset`.
    @inline(__always)
    func byte(_ offset: Int) -> UInt8 {
        let raw = base.unsafelyUnwrapped.load(fromByteOffset: offset, as: UInt8.self)
        return raw ^ UInt8(truncatingIfNeeded: mask &>> UInt64((offset & 3) &<< 3))
    }

    /// The mask to XOR with an 8-byte little-endian word loaded at an offset ≡ `offset` (mod 4).
    @inline(__always)
    func wordMask(at offset: Int) -> UInt64 {
        let shift = UInt64((offset & 3) &<< 3)
        return (mask &>> shift) | (mask &<< (64 &- shift))
    }

    /// The 8 unmasked bytes at `offset..<offset+8`, byte `offset` in the low bits.
    @inline(__always)
    func word(_ offset: Int) -> UInt64 {
        let raw = base.unsafelyUnwrapped.loadUnaligned(fromByteOffset: offset, as: UInt64.self)
        return UInt64(littleEndian: raw) ^ wordMask(at: offset)
    }

    /// The 4 unmasked bytes at `offset..<offset+4`, byte `offset` in the low bits.
    @inline(__always)
    func word4(_ offset: Int) -> UInt32 {
        let raw = base.unsafelyUnwrapped.loadUnaligned(fromByteOffset: offset, as: UInt32.self)
        return UInt32(littleEndian: raw) ^ UInt32(truncatingIfNeeded: wordMask(at: offset))
    }

    /// The mask as 16 lanes for a 16-byte load at an offset ≡ `offset` (mod 4). Loads 16 bytes apart keep
    /// the same phase, so a loop computes this once.
    @inline(__always)
    func vectorMask(at offset: Int) -> SIMD16<UInt8> {
        // Lane k is the byte at offset + k: on a little-endian machine the low byte of each word comes first.
        unsafeBitCast(SIMD2<UInt64>(repeating: wordMask(at: offset).littleEndian), to: SIMD16<UInt8>.self)
    }

    /// The 16 unmasked bytes at `offset..<offset+16`; `mask` is `vectorMask(at: offset)` (or of an offset
    /// in the same phase).
    @inline(__always)
    func vector(_ offset: Int, mask: SIMD16<UInt8>) -> SIMD16<UInt8> {
        base.unsafelyUnwrapped.loadUnaligned(fromByteOffset: offset, as: SIMD16<UInt8>.self) ^ mask
    }
}
