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

    /// Copies `count` bytes from `offset` to `destination`, unmasking them. Record values are
    /// copied on every message, so this moves 8 bytes per step and finishes with one overlapping
    /// word (or two overlapping half-words) instead of a byte loop; it never touches a byte outside
    /// either range.
    @inline(__always)
    func copy(from offset: Int, count: Int, to destination: UnsafeMutableRawPointer) {
        let source = base.unsafelyUnwrapped + offset
        if count >= 8 {
            let mask = wordMask(at: offset)
            var done = 0
            while done &+ 8 < count {
                let raw = source.loadUnaligned(fromByteOffset: done, as: UInt64.self)
                destination.storeBytes(of: raw ^ mask.littleEndian, toByteOffset: done, as: UInt64.self)
                done &+= 8
            }
            let last = count &- 8
            let raw = source.loadUnaligned(fromByteOffset: last, as: UInt64.self)
            destination.storeBytes(
                of: raw ^ wordMask(at: offset &+ last).littleEndian,
                toByteOffset: last,
                as: UInt64.self
            )
        } else if count >= 4 {
            let last = count &- 4
            let first = source.loadUnaligned(as: UInt32.self)
            let final = source.loadUnaligned(fromByteOffset: last, as: UInt32.self)
            let firstMask = UInt32(truncatingIfNeeded: wordMask(at: offset))
            let finalMask = UInt32(truncatingIfNeeded: wordMask(at: offset &+ last))
            destination.storeBytes(of: first ^ firstMask.littleEndian, as: UInt32.self)
            destination.storeBytes(of: final ^ finalMask.littleEndian, toByteOffset: last, as: UInt32.self)
        } else if count > 0 {
            // 1...3 bytes: first, middle and last (some of them the same byte).
            let middle = count &>> 1
            let last = count &- 1
            destination.storeBytes(of: byte(offset), as: UInt8.self)
            destination.storeBytes(of: byte(offset &+ middle), toByteOffset: middle, as: UInt8.self)
            destination.storeBytes(of: byte(offset &+ last), toByteOffset: last, as: UInt8.self)
        }
    }
}

extension MaskedPayload {
    /// Validates the UTF-8 sequence whose lead byte (>= 0x80) is at `offset` and returns the offset
    /// just past it, or nil if the sequence is invalid: a stray continuation byte, an overlong form,
    /// an encoded surrogate (U+D800–DFFF), a value above U+10FFFF, or a sequence cut short.
    @inline(__always)
    func endOfUTF8Sequence(at offset: Int) -> Int? {
        let lead = byte(offset)
        // The allowed range of the second byte is what rules out overlongs, surrogates and > U+10FFFF.
        let length: Int
        var low: UInt8 = 0x80
        var high: UInt8 = 0xBF
        switch lead {
        case 0xC2...0xDF: length = 2
        case 0xE0:
            length = 3
            low = 0xA0
        case 0xE1...0xEC, 0xEE...0xEF: length = 3
        case 0xED:
            length = 3
            high = 0x9F
        case 0xF0:
            length = 4
            low = 0x90
        case 0xF1...0xF3: length = 4
        case 0xF4:
            length = 4
            high = 0x8F
        default: return nil
        }
        guard offset &+ length <= count else { return nil }
        let second = byte(offset &+ 1)
        guard second >= low, second <= high else { return nil }
        var next = offset &+ 2
        while next < offset &+ length {
            guard byte(next) & 0xC0 == 0x80 else { return nil }
            next &+= 1
        }
        return next
    }

    /// The offset of the first invalid UTF-8 sequence at or after `offset` (which must be at a
    /// character boundary), or nil if the rest of the payload is valid.
    func firstInvalidUTF8(from offset: Int) -> Int? {
        var i = offset
        while i < count {
            // Whole ASCII words are the common case; skip them without looking at each byte.
            if i &+ 8 <= count, word(i) & 0x8080_8080_8080_8080 == 0 {
                i &+= 8
                continue
            }
            if byte(i) < 0x80 {
                i &+= 1
            } else if let next = endOfUTF8Sequence(at: i) {
                i = next
            } else {
                return i
            }
        }
        return nil
    }
}
