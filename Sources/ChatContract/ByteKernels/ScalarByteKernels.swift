/// The reference implementation of the per-byte work: one byte per step, no tricks, so that it can be
/// read against RFC 3629 and RFC 8259 directly. The fuzz targets hold `VectorByteKernels` to its answers.
enum ScalarByteKernels: ByteKernels {
    static func firstInvalidUTF8(in payload: MaskedPayload) -> Int? {
        var offset = 0
        while offset < payload.count {
            if payload.byte(offset) < 0x80 {
                offset &+= 1
            } else if let next = endOfUTF8Sequence(in: payload, at: offset) {
                offset = next
            } else {
                return offset
            }
        }
        return nil
    }

    /// Validates the UTF-8 sequence whose lead byte (>= 0x80) is at `offset` and returns the offset
    /// just past it, or nil if the sequence is ill-formed.
    static func endOfUTF8Sequence(in payload: MaskedPayload, at offset: Int) -> Int? {
        let lead = payload.byte(offset)
        // The allowed range of the second byte is what rules out overlongs, surrogates and > U+10FFFF
        // (RFC 3629 §4).
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
        guard offset &+ length <= payload.count else { return nil }
        let second = payload.byte(offset &+ 1)
        guard second >= low, second <= high else { return nil }
        var next = offset &+ 2
        while next < offset &+ length {
            guard payload.byte(next) & 0xC0 == 0x80 else { return nil }
            next &+= 1
        }
        return next
    }

    static func endOfPlainRun(in payload: MaskedPayload, from offset: Int, to end: Int) -> Int {
        var index = offset
        while index < end {
            let byte = payload.byte(index)
            if byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") || byte < 0x20 { return index }
            index &+= 1
        }
        return end
    }

    static func copy(
        _ payload: MaskedPayload,
        from offset: Int,
        count: Int,
        to destination: UnsafeMutableRawPointer
    ) {
        for index in 0..<count {
            destination.storeBytes(of: payload.byte(offset &+ index), toByteOffset: index, as: UInt8.self)
        }
    }
}
