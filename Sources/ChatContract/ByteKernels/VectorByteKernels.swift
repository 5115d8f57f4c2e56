#if !_endian(little)
#error("VectorByteKernels reads lane k of a vector as bits 8k..<8k+8 of a UInt128: little-endian only")
#endif

/// The per-byte work, 16 bytes per step (SSE2 on x86-64, NEON on arm64), with no branch per byte.
///
/// Written with lane-wise wrapping arithmetic only (`&-`, `&+`, `&`, `|`, `^`, shifts of 16-bit lanes): every test is
/// turned into "the high bit of the lane is set". Swift's SIMD comparisons (`.==`, `.<`) and `any()` compile
/// to a loop over the lanes here (Swift 6.3, checked in the assembly), and it has no byte shuffle that
/// becomes `pshufb`, so the table lookups of Keiser and Lemire's UTF-8 check are out of reach. The UTF-8
/// check below uses ranges instead: a continuation byte must be exactly where a lead byte asks for one, and
/// the five byte pairs that are overlong, surrogates or too large are tested directly.
enum VectorByteKernels: ByteKernels {
    /// Lane k's high bit, for every k.
    private static let highBits = UInt128(0x8080_8080_8080_8080_8080_8080_8080_8080)

    // MARK: UTF-8

    static func firstInvalidUTF8(in payload: MaskedPayload) -> Int? {
        // The position is only needed on the way to a rejection: the reference finds it.
        isValidUTF8(payload) ? nil : ScalarByteKernels.firstInvalidUTF8(in: payload)
    }

    /// Whether the whole payload is well-formed UTF-8. Chat text is mostly ASCII, so the bytes are first
    /// only tested for a high bit (one load and one test per 16 bytes); from the first block that has one,
    /// each block is checked together with the 3 bytes before it, loaded again from memory (the payload is
    /// in L1) rather than shifted in across lanes, which SSE2 cannot do for bytes without a shuffle.
    @inline(__always)
    static func isValidUTF8(_ payload: MaskedPayload) -> Bool {
        let count = payload.count
        // Below 19 bytes the last block would start less than 3 bytes into the payload.
        guard count >= 19 else { return ScalarByteKernels.firstInvalidUTF8(in: payload) == nil }
        let mask = payload.vectorMask(at: 0)
        var index = 0
        while count &- index >= 64 {
            let any =
                payload.vector(index, mask: mask) | payload.vector(index &+ 16, mask: mask)
                | payload.vector(index &+ 32, mask: mask) | payload.vector(index &+ 48, mask: mask)
            if bits(any) & highBits != 0 { break }
            index &+= 64
        }
        while count &- index >= 16 {
            if bits(payload.vector(index, mask: mask)) & highBits != 0 { break }
            index &+= 16
        }
        if count &- index < 16 {
            // All ASCII so far: the last 1...15 bytes, in one block ending at the end.
            let last = count &- 16
            if bits(payload.vector(last, mask: payload.vectorMask(at: last))) & highBits == 0 { return true }
            index = last
        }
        var errors: SIMD16<UInt8>
        if index == 0 {
            // What lies before the payload counts as ASCII.
            let first = payload.vector(0, mask: mask)
            let firstBits = bits(first)
            errors = utf8Errors(
                first,
                back1: vector(firstBits &<< 8),
                back2: vector(firstBits &<< 16),
                back3: vector(firstBits &<< 24)
            )
            index = 16
        } else {
            errors = SIMD16<UInt8>()
        }
        if count &- index >= 16 {
            let masks = UTF8BlockMasks(payload, phaseOf: index)
            repeat {
                errors |= blockErrors(payload, at: index, masks)
                index &+= 16
            } while count &- index >= 16
        }
        if index < count {
            // The last 1...15 bytes: one more block, ending at the end (it re-reads some checked bytes).
            errors |= blockErrors(payload, at: count &- 16, UTF8BlockMasks(payload, phaseOf: count &- 16))
        }
        // A sequence cut short by the end of the payload: a lead byte in the last 3 that needs more bytes.
        let cutShort =
            payload.byte(count &- 1) >= 0xC0 || payload.byte(count &- 2) >= 0xE0 || payload.byte(count &- 3) >= 0xF0
        return !cutShort && bits(errors) & highBits == 0
    }

    /// The masks of a 16-byte block and of the loads 1, 2 and 3 bytes before it.
    private struct UTF8BlockMasks {
        let block: SIMD16<UInt8>
        let back1: SIMD16<UInt8>
        let back2: SIMD16<UInt8>
        let back3: SIMD16<UInt8>

        @inline(__always)
        init(_ payload: MaskedPayload, phaseOf offset: Int) {
            block = payload.vectorMask(at: offset)
            back1 = payload.vectorMask(at: offset &- 1)
            back2 = payload.vectorMask(at: offset &- 2)
            back3 = payload.vectorMask(at: offset &- 3)
        }
    }

    /// The UTF-8 errors of the block at `offset` (at least 3).
    @inline(__always)
    private static func blockErrors(_ payload: MaskedPayload, at offset: Int, _ masks: UTF8BlockMasks) -> SIMD16<UInt8>
    {
        let block = payload.vector(offset, mask: masks.block)
        let back3 = payload.vector(offset &- 3, mask: masks.back3)
        // ASCII here and in the 3 bytes before: nothing to check.
        if bits(block | back3) & highBits == 0 { return SIMD16<UInt8>() }
        return utf8Errors(
            block,
            back1: payload.vector(offset &- 1, mask: masks.back1),
            back2: payload.vector(offset &- 2, mask: masks.back2),
            back3: back3
        )
    }

    /// High bit set in each lane of `block` that breaks UTF-8, given the bytes 1, 2 and 3 places earlier.
    @inline(__always)
    private static func utf8Errors(
        _ block: SIMD16<UInt8>,
        back1: SIMD16<UInt8>,
        back2: SIMD16<UInt8>,
        back3: SIMD16<UInt8>
    ) -> SIMD16<UInt8> {
        // A continuation byte is due after a lead of 2+ bytes (C0-FF), two after 3+ (E0-FF), three after
        // 4+ (F0-FF), and nowhere else.
        let due = atLeastC0(back1) | atLeastE0(back2) | atLeastF0(back3)
        var errors = due ^ continuation(block)
        // Bytes that are never UTF-8: C0 and C1 (overlong leads), F5-FF (beyond U+10FFFF).
        errors |= equal(block & 0xFE, 0xC0) | (atLeastF0(block) & ~(block &+ 0x0B))
        // Second bytes out of range (where the first rule already put a continuation byte, bits 5 and 4 of
        // which give its range): E0 80-9F overlong, ED A0-BF surrogate, F0 80-8F overlong, F4 90-BF too large.
        let bit5 = highBit(block, after: 2)
        let bits54 = bit5 | highBit(block, after: 3)
        errors |= equal(back1, 0xE0) & ~bit5
        errors |= equal(back1, 0xED) & bit5
        errors |= equal(back1, 0xF0) & ~bits54
        errors |= equal(back1, 0xF4) & bits54
        return errors & 0x80
    }

    /// High bit set where the lane is 0xC0 or more (bits 7 and 6 set).
    @inline(__always)
    private static func atLeastC0(_ lanes: SIMD16<UInt8>) -> SIMD16<UInt8> {
        lanes & highBit(lanes, after: 1)
    }

    /// High bit set where the lane is 0xE0 or more.
    @inline(__always)
    private static func atLeastE0(_ lanes: SIMD16<UInt8>) -> SIMD16<UInt8> {
        lanes & highBit(lanes, after: 1) & highBit(lanes, after: 2)
    }

    /// High bit set where the lane is 0xF0 or more.
    @inline(__always)
    private static func atLeastF0(_ lanes: SIMD16<UInt8>) -> SIMD16<UInt8> {
        atLeastE0(lanes) & highBit(lanes, after: 3)
    }

    /// High bit set where the lane is a continuation byte, 80-BF.
    @inline(__always)
    private static func continuation(_ lanes: SIMD16<UInt8>) -> SIMD16<UInt8> {
        lanes & ~highBit(lanes, after: 1)
    }

    /// The lanes shifted left by `count` (1...7) bits, in which ONLY THE HIGH BIT of each lane is meaningful:
    /// the shift runs on 16-bit lanes, so low bits of an odd lane receive bits of the even lane below it.
    /// A byte-lane shift has no SSE2 instruction and LLVM turns `SIMD16<UInt8> &<< n` into widening
    /// multiplications (seen in the assembly); every caller here only reads bit 7.
    @inline(__always)
    private static func highBit(_ lanes: SIMD16<UInt8>, after count: UInt16) -> SIMD16<UInt8> {
        let wide = unsafeBitCast(lanes, to: SIMD8<UInt16>.self) &<< count
        return unsafeBitCast(wide, to: SIMD16<UInt8>.self)
    }

    /// High bit set where the lane equals `value` (only a zero difference borrows into its own high bit).
    @inline(__always)
    private static func equal(_ lanes: SIMD16<UInt8>, _ value: UInt8) -> SIMD16<UInt8> {
        let difference = lanes ^ value
        return (difference &- 1) & ~difference
    }

    // MARK: strings

    @inline(__always)
    static func endOfPlainRun(in payload: MaskedPayload, from offset: Int, to end: Int) -> Int {
        var index = offset
        if end &- index >= 16 {
            let mask = payload.vectorMask(at: index)
            // Two blocks per test while there is room: one branch per 32 bytes of a long text.
            while end &- index >= 32 {
                let first = stopLanes(payload.vector(index, mask: mask))
                let second = stopLanes(payload.vector(index &+ 16, mask: mask))
                if first | second != 0 {
                    if first != 0 { return index &+ first.trailingZeroBitCount &>> 3 }
                    return index &+ 16 &+ second.trailingZeroBitCount &>> 3
                }
                index &+= 32
            }
            if end &- index >= 16 {
                let stops = stopLanes(payload.vector(index, mask: mask))
                if stops != 0 { return index &+ stops.trailingZeroBitCount &>> 3 }
                index &+= 16
            }
        }
        guard index < end else { return end }
        guard end >= 16 else { return ScalarByteKernels.endOfPlainRun(in: payload, from: index, to: end) }
        // Fewer than 16 bytes left: one load that ends at `end`, ignoring the lanes before `index`.
        let start = end &- 16
        let skipped = UInt128((index &- start) &* 8)
        let stops = stopLanes(payload.vector(start, mask: payload.vectorMask(at: start))) &>> skipped
        return stops != 0 ? index &+ stops.trailingZeroBitCount &>> 3 : end
    }

    /// The high bit of lane k set when byte k is `"`, `\` or below 0x20 (bytes from 0x80 up never are).
    @inline(__always)
    private static func stopLanes(_ lanes: SIMD16<UInt8>) -> UInt128 {
        let control = (lanes &- 0x20) & ~lanes
        let stops = control | equal(lanes, UInt8(ascii: "\"")) | equal(lanes, UInt8(ascii: "\\"))
        return bits(stops) & highBits
    }

    // MARK: copying

    @inline(__always)
    static func copy(
        _ payload: MaskedPayload,
        from offset: Int,
        count: Int,
        to destination: UnsafeMutableRawPointer
    ) {
        guard count >= 16 else { return copyShort(payload, from: offset, count: count, to: destination) }
        let mask = payload.vectorMask(at: offset)
        var done = 0
        while count &- done > 16 {
            destination.storeBytes(
                of: payload.vector(offset &+ done, mask: mask),
                toByteOffset: done,
                as: SIMD16<UInt8>.self
            )
            done &+= 16
        }
        // The last 16 bytes, overlapping what is already written rather than a loop over the rest.
        let last = count &- 16
        destination.storeBytes(
            of: payload.vector(offset &+ last, mask: payload.vectorMask(at: offset &+ last)),
            toByteOffset: last,
            as: SIMD16<UInt8>.self
        )
    }

    /// 0...15 bytes: two overlapping words or half-words, or first, middle and last byte.
    @inline(__always)
    private static func copyShort(
        _ payload: MaskedPayload,
        from offset: Int,
        count: Int,
        to destination: UnsafeMutableRawPointer
    ) {
        if count >= 8 {
            let last = count &- 8
            destination.storeBytes(of: payload.word(offset).littleEndian, as: UInt64.self)
            destination.storeBytes(of: payload.word(offset &+ last).littleEndian, toByteOffset: last, as: UInt64.self)
        } else if count >= 4 {
            let last = count &- 4
            let first = payload.word4(offset)
            let final = payload.word4(offset &+ last)
            destination.storeBytes(of: first.littleEndian, as: UInt32.self)
            destination.storeBytes(of: final.littleEndian, toByteOffset: last, as: UInt32.self)
        } else if count > 0 {
            let middle = count &>> 1
            let last = count &- 1
            destination.storeBytes(of: payload.byte(offset), as: UInt8.self)
            destination.storeBytes(of: payload.byte(offset &+ middle), toByteOffset: middle, as: UInt8.self)
            destination.storeBytes(of: payload.byte(offset &+ last), toByteOffset: last, as: UInt8.self)
        }
    }

    // MARK: lanes and bits

    @inline(__always)
    private static func bits(_ lanes: SIMD16<UInt8>) -> UInt128 {
        unsafeBitCast(lanes, to: UInt128.self)
    }

    @inline(__always)
    private static func vector(_ bits: UInt128) -> SIMD16<UInt8> {
        unsafeBitCast(bits, to: SIMD16<UInt8>.self)
    }
}
