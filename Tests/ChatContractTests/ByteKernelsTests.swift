@_spi(ByteKernels) import ChatContract
import TestSupport
import Testing

/// The vectorised per-byte kernels against the byte-at-a-time reference, at every position relative to
/// the 16-byte blocks, masked and not. (The fuzz targets do the same on what libFuzzer invents.)
@Suite("Byte kernels: vector against reference")
struct ByteKernelsTests {
    /// Sequences on both sides of every UTF-8 boundary (RFC 3629 §4), with the verdict they must get.
    static let sequences: [(bytes: [UInt8], valid: Bool)] = [
        ([0xC2, 0x80], true), ([0xDF, 0xBF], true), ([0xE0, 0xA0, 0x80], true), ([0xED, 0x9F, 0xBF], true),
        ([0xEE, 0x80, 0x80], true), ([0xEF, 0xBF, 0xBF], true), ([0xF0, 0x90, 0x80, 0x80], true),
        ([0xF4, 0x8F, 0xBF, 0xBF], true), ([0xE1, 0x80, 0x80], true), ([0xF3, 0xBF, 0xBF, 0xBF], true),
        ([0xC0, 0x80], false), ([0xC1, 0xBF], false), ([0xE0, 0x9F, 0xBF], false), ([0xED, 0xA0, 0x80], false),
        ([0xF0, 0x8F, 0xBF, 0xBF], false), ([0xF4, 0x90, 0x80, 0x80], false), ([0xF5, 0x80, 0x80, 0x80], false),
        ([0xFF], false), ([0xFE], false), ([0xF8, 0x88, 0x80, 0x80, 0x80], false), ([0x80], false), ([0xBF], false),
        ([0xC2], false), ([0xE0, 0xA0], false), ([0xF0, 0x90, 0x80], false), ([0xC2, 0xC2, 0x80], false),
        ([0xE1, 0x80, 0x80, 0x80], false), ([0xC2, 0x41], false), ([0xE1, 0x41, 0x80], false),
    ]
    static let maskKeys: [UInt32] = [0, 0x8080_8080, 0xFF00_5C22, 0x1234_5679]

    @Test("UTF-8 boundary sequences at every offset and length around the blocks", arguments: sequences.indices)
    func utf8Boundaries(_ index: Int) {
        let sequence = Self.sequences[index]
        for length in [15, 16, 17, 18, 19, 20, 31, 32, 33, 47, 48, 49, 64, 70] where length >= sequence.bytes.count {
            for offset in 0...(length - sequence.bytes.count) {
                var bytes = [UInt8](repeating: UInt8(ascii: "a"), count: length)
                bytes.replaceSubrange(offset..<(offset + sequence.bytes.count), with: sequence.bytes)
                for key in Self.maskKeys {
                    let input = Self.masked(bytes, key)
                    input.withUnsafeBytes { raw in
                        let vector = ChatMessageValidator.isValidUTF8(raw, maskKey: key, kernels: .vector)
                        let scalar = ChatMessageValidator.isValidUTF8(raw, maskKey: key, kernels: .scalar)
                        #expect(scalar == sequence.valid, "reference on \(sequence.bytes) at \(offset) of \(length)")
                        #expect(vector == scalar, "\(sequence.bytes) at \(offset) of \(length), key \(key)")
                    }
                }
            }
        }
    }

    @Test("random text: every kernel gives the reference's answer")
    func randomText() {
        var random = SeededGenerator(seed: 0xB17E_5EED)
        for _ in 0..<3000 {
            let bytes = Self.randomText(using: &random)
            let key = Bool.random(using: &random) ? 0 : UInt32.random(in: 1...UInt32.max, using: &random)
            let input = Self.masked(bytes, key)
            input.withUnsafeBytes { raw in
                #expect(
                    ChatMessageValidator.isValidUTF8(raw, maskKey: key, kernels: .vector)
                        == ChatMessageValidator.isValidUTF8(raw, maskKey: key, kernels: .scalar),
                    "UTF-8 verdicts differ on \(bytes)"
                )
                for start in 0...bytes.count {
                    let end = Int.random(in: start...bytes.count, using: &random)
                    let vector = ChatMessageValidator.endOfPlainRun(
                        raw,
                        maskKey: key,
                        from: start,
                        to: end,
                        kernels: .vector
                    )
                    let scalar = ChatMessageValidator.endOfPlainRun(
                        raw,
                        maskKey: key,
                        from: start,
                        to: end,
                        kernels: .scalar
                    )
                    #expect(vector == scalar, "plain run from \(start) to \(end) in \(bytes)")
                }
                let offset = Int.random(in: 0...bytes.count, using: &random)
                let count = Int.random(in: 0...(bytes.count - offset), using: &random)
                #expect(Self.copy(raw, key, offset, count, .vector) == Array(bytes[offset..<(offset + count)]))
                #expect(Self.copy(raw, key, offset, count, .scalar) == Array(bytes[offset..<(offset + count)]))
                let vector = ChatMessageValidator.validate(raw, maskKey: key, kernels: .vector)
                let scalar = ChatMessageValidator.validate(raw, maskKey: key, kernels: .scalar)
                #expect(vector == scalar, "validation differs on \(bytes)")
            }
        }
    }

    @Test("a plain run ends at the first quote, backslash or control byte, wherever it is")
    func plainRunStops() {
        for stop in [UInt8(ascii: "\""), UInt8(ascii: "\\"), 0x00, 0x0A, 0x1F] {
            for length in [1, 15, 16, 17, 40] {
                for position in 0..<length {
                    var bytes = [UInt8](repeating: 0xC3, count: length)  // non-ASCII bytes are plain
                    bytes[position] = stop
                    for key in Self.maskKeys {
                        Self.masked(bytes, key).withUnsafeBytes { raw in
                            for kernels in ByteKernelChoice.allCases {
                                let end = ChatMessageValidator.endOfPlainRun(
                                    raw,
                                    maskKey: key,
                                    from: 0,
                                    to: length,
                                    kernels: kernels
                                )
                                #expect(end == position, "\(kernels): stop \(stop) at \(position) of \(length)")
                            }
                        }
                    }
                }
            }
        }
    }

    // MARK: helpers

    static func masked(_ bytes: [UInt8], _ key: UInt32) -> [UInt8] {
        bytes.enumerated().map { offset, byte in byte ^ UInt8(truncatingIfNeeded: key >> (UInt32(offset & 3) * 8)) }
    }

    static func copy(
        _ raw: UnsafeRawBufferPointer,
        _ key: UInt32,
        _ offset: Int,
        _ count: Int,
        _ kernels: ByteKernelChoice
    ) -> [UInt8] {
        // Guard bytes on both sides: the copy must write exactly `count` bytes.
        var out = [UInt8](repeating: 0xEE, count: count + 32)
        out.withUnsafeMutableBytes { destination in
            ChatMessageValidator.copyUnmasked(
                raw,
                maskKey: key,
                from: offset,
                count: count,
                to: destination.baseAddress! + 16,
                kernels: kernels
            )
        }
        #expect(out.prefix(16).allSatisfy { $0 == 0xEE } && out.suffix(16).allSatisfy { $0 == 0xEE })
        return Array(out[16..<(16 + count)])
    }

    /// Up to 80 bytes of JSON-ish text: ASCII, quotes, escapes, control bytes, valid and broken UTF-8.
    static func randomText(using random: inout SeededGenerator) -> [UInt8] {
        let pieces: [[UInt8]] = [
            Array("hello ".utf8), Array("\"".utf8), Array("\\n".utf8), Array("{\"text\":".utf8), [0x09], [0x01],
            Array("é".utf8), Array("日本".utf8), Array("🙂".utf8), [0xED, 0xA0, 0x80], [0xC0, 0xAF], [0xF4, 0x90],
            [0x80], [0xE2, 0x82], [0xFF], Array("}".utf8),
        ]
        var bytes: [UInt8] = []
        while bytes.count < Int.random(in: 0...80, using: &random) {
            bytes += pieces.randomElement(using: &random)!
        }
        return bytes
    }
}
