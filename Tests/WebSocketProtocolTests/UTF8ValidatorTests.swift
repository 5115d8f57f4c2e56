import TestSupport
import Testing

@testable import WebSocketProtocol

@Suite("UTF8Validator")
struct UTF8ValidatorTests {
    /// Feeds `plain` masked with `mask` (starting at payload offset `maskOffset`) in the given chunk sizes.
    /// Returns the index of the chunk where `feed` first returned false (nil if none) and the final boundary state.
    static func run(
        _ plain: [UInt8],
        chunks: [Int],
        mask: UInt32,
        maskOffset: Int
    ) -> (
        failedChunk: Int?, atBoundary: Bool, chunkStarts: [Int]
    ) {
        let masked = plain.enumerated().map { $0.element ^ WebSocketMask.byte(of: mask, at: maskOffset + $0.offset) }
        var validator = UTF8Validator()
        var start = 0
        var failedChunk: Int?
        var starts: [Int] = []
        for (index, size) in chunks.enumerated() {
            starts.append(start)
            let ok = masked[start..<start + size].withUnsafeBytes {
                validator.feed($0, maskKey: mask, maskOffset: maskOffset + start)
            }
            if !ok && failedChunk == nil { failedChunk = index }
            if failedChunk != nil { #expect(!ok, "feed must keep failing after the first failure") }
            start += size
        }
        return (failedChunk, validator.isAtCharacterBoundary, starts)
    }

    /// Index of the first byte that cannot continue any valid UTF-8 string, per Swift's own decoder
    /// (nil when the bytes are valid or only end inside a character).
    static func firstInvalidByte(_ bytes: [UInt8]) -> Int? {
        var iterator = bytes.makeIterator()
        var parser = Unicode.UTF8.ForwardParser()
        var position = 0
        while true {
            switch parser.parseScalar(from: &iterator) {
            case .valid(let scalar):
                position += scalar.count
            case .emptyInput:
                return nil
            case .error(let length):
                // A byte that can never start a character is itself the error; otherwise the maximal
                // valid subpart (`length` bytes) is followed by the offending byte, or by the end.
                let lead = bytes[position]
                if (0x80...0xC1).contains(lead) || lead >= 0xF5 { return position }
                return position + length < bytes.count ? position + length : nil
            }
        }
    }

    static func randomInput(_ rng: inout SeededGenerator) -> [UInt8] {
        switch Int.random(in: 0..<5, using: &rng) {
        case 4:
            // Long ASCII runs with rare other bytes, so the word-at-a-time paths meet their edges.
            return (0..<Int.random(in: 0...100, using: &rng)).map { _ in
                Int.random(in: 0..<30, using: &rng) == 0
                    ? UInt8.random(in: 0x80...0xFF, using: &rng) : UInt8.random(in: 0x20...0x7E, using: &rng)
            }
        case 0:
            // Raw random bytes, biased to the interesting ranges.
            let interesting: [UInt8] = [
                0x41, 0x7F, 0x80, 0x8F, 0x90, 0x9F, 0xA0, 0xBF, 0xC0, 0xC1, 0xC2, 0xDF, 0xE0, 0xE1, 0xEC, 0xED, 0xEE,
                0xEF, 0xF0, 0xF1, 0xF3, 0xF4, 0xF5, 0xFF,
            ]
            return (0..<Int.random(in: 0...24, using: &rng)).map { _ in
                Bool.random(using: &rng)
                    ? interesting.randomElement(using: &rng)! : UInt8.random(in: 0...255, using: &rng)
            }
        default:
            // Valid text from random scalars of every length, then maybe damaged.
            var scalars = String.UnicodeScalarView()
            for _ in 0..<Int.random(in: 0...40, using: &rng) {
                let ranges: [ClosedRange<UInt32>] = [
                    0x20...0x7E, 0x80...0x7FF, 0x800...0xD7FF, 0xE000...0xFFFF, 0x10000...0x10FFFF,
                ]
                let value = UInt32.random(in: ranges.randomElement(using: &rng)!, using: &rng)
                scalars.append(Unicode.Scalar(value)!)
            }
            var bytes = Array(String(scalars).utf8)
            switch Int.random(in: 0..<4, using: &rng) {
            case 0 where !bytes.isEmpty:
                bytes[Int.random(in: 0..<bytes.count, using: &rng)] = UInt8.random(in: 0...255, using: &rng)
            case 1 where !bytes.isEmpty:
                bytes.removeLast(Int.random(in: 1...min(3, bytes.count), using: &rng))
            case 2 where !bytes.isEmpty:
                bytes.remove(at: Int.random(in: 0..<bytes.count, using: &rng))
            default:
                break
            }
            return bytes
        }
    }

    @Test("agrees with Swift's decoder on random inputs fed in random masked chunks")
    func randomAgainstSwift() {
        var rng = SeededGenerator(seed: 0x5EED_0F_6455)
        var validCount = 0
        var invalidCount = 0
        for _ in 0..<5000 {
            let plain = Self.randomInput(&rng)
            var chunks: [Int] = []
            var remaining = plain.count
            while remaining > 0 {
                let size = Int.random(in: 0...min(remaining, 40), using: &rng)
                chunks.append(size)
                remaining -= size
            }
            let mask = Bool.random(using: &rng) ? 0 : UInt32.random(in: 0...UInt32.max, using: &rng)
            let maskOffset = Int.random(in: 0...7, using: &rng)
            let (failedChunk, atBoundary, starts) = Self.run(plain, chunks: chunks, mask: mask, maskOffset: maskOffset)

            let isValid = String(validating: plain, as: UTF8.self) != nil
            if isValid {
                validCount += 1
            } else {
                invalidCount += 1
            }
            #expect((failedChunk == nil && atBoundary) == isValid, "bytes \(plain)")

            // Fail fast: the first failing chunk is the one holding the first invalid byte.
            if let bad = Self.firstInvalidByte(plain) {
                let expectedChunk = starts.indices.last { starts[$0] <= bad && chunks[$0] > 0 }
                #expect(failedChunk == expectedChunk, "bytes \(plain), first invalid byte at \(bad), chunks \(chunks)")
            } else {
                #expect(failedChunk == nil, "bytes \(plain)")
            }
        }
        #expect(validCount > 1000 && invalidCount > 1000)
    }

    @Test("long mostly-ASCII runs take the fast path correctly at every position and mask offset")
    func asciiFastPath() {
        var rng = SeededGenerator(seed: 42)
        for position in 0..<40 {
            for insert in [[UInt8](arrayLiteral: 0xC3, 0xA9), [0xFF], [0xE2, 0x82, 0xAC], [0xED, 0xBF, 0xBF], [0x80]] {
                var plain = Array(repeating: UInt8(ascii: "q"), count: 48)
                plain.replaceSubrange(position..<position, with: insert)
                let mask = UInt32.random(in: 0...UInt32.max, using: &rng)
                let maskOffset = Int.random(in: 0...3, using: &rng)
                let isValid = String(validating: plain, as: UTF8.self) != nil
                let whole = Self.run(plain, chunks: [plain.count], mask: mask, maskOffset: maskOffset)
                #expect((whole.failedChunk == nil && whole.atBoundary) == isValid, "insert \(insert) at \(position)")
                let split = Self.run(
                    plain,
                    chunks: [position + 1, plain.count - position - 1],
                    mask: mask,
                    maskOffset: maskOffset
                )
                #expect(
                    (split.failedChunk == nil && split.atBoundary) == isValid,
                    "insert \(insert) at \(position), split"
                )
            }
        }
    }

    struct Vector: Sendable, CustomTestStringConvertible {
        var bytes: [UInt8]
        var valid: Bool
        var testDescription: String { "\(bytes.map { String($0, radix: 16) }) \(valid ? "valid" : "invalid")" }
    }

    static let vectors: [Vector] = [
        .init(bytes: [], valid: true),
        .init(bytes: [0x7F], valid: true),
        .init(bytes: [0xC2, 0x80], valid: true),  // U+0080
        .init(bytes: [0xDF, 0xBF], valid: true),  // U+07FF
        .init(bytes: [0xE0, 0xA0, 0x80], valid: true),  // U+0800
        .init(bytes: [0xED, 0x9F, 0xBF], valid: true),  // U+D7FF
        .init(bytes: [0xEE, 0x80, 0x80], valid: true),  // U+E000
        .init(bytes: [0xEF, 0xBF, 0xBF], valid: true),  // U+FFFF
        .init(bytes: [0xF0, 0x90, 0x80, 0x80], valid: true),  // U+10000
        .init(bytes: [0xF4, 0x8F, 0xBF, 0xBF], valid: true),  // U+10FFFF
        .init(bytes: [0x80], valid: false),  // lone continuation
        .init(bytes: [0xC0, 0x80], valid: false),  // overlong NUL
        .init(bytes: [0xC1, 0xBF], valid: false),  // overlong
        .init(bytes: [0xE0, 0x9F, 0xBF], valid: false),  // overlong 3-byte
        .init(bytes: [0xED, 0xA0, 0x80], valid: false),  // surrogate U+D800
        .init(bytes: [0xED, 0xBF, 0xBF], valid: false),  // surrogate U+DFFF
        .init(bytes: [0xF0, 0x8F, 0xBF, 0xBF], valid: false),  // overlong 4-byte
        .init(bytes: [0xF4, 0x90, 0x80, 0x80], valid: false),  // U+110000
        .init(bytes: [0xF5, 0x80, 0x80, 0x80], valid: false),
        .init(bytes: [0xFF], valid: false),
        .init(bytes: [0xC2], valid: false),  // truncated
        .init(bytes: [0xE2, 0x82], valid: false),  // truncated
        .init(bytes: [0xF0, 0x9F, 0x98], valid: false),  // truncated
        .init(bytes: [0xC2, 0x41], valid: false),  // missing continuation
        .init(bytes: Array("κόσμε".utf8), valid: true),
    ]

    @Test("known vectors", arguments: vectors)
    func knownVectors(_ vector: Vector) {
        #expect((String(validating: vector.bytes, as: UTF8.self) != nil) == vector.valid)
        var validator = UTF8Validator()
        let ok = vector.bytes.withUnsafeBytes { validator.feed($0) }
        #expect((ok && validator.isAtCharacterBoundary) == vector.valid)
    }

    @Test("failure is sticky until reset")
    func stickyFailureAndReset() {
        var validator = UTF8Validator()
        #expect(![UInt8(0xFF)].withUnsafeBytes { validator.feed($0) })
        #expect(validator.hasFailed)
        #expect(!Array("fine".utf8).withUnsafeBytes { validator.feed($0) })
        validator.reset()
        #expect(Array("fine".utf8).withUnsafeBytes { validator.feed($0) })
        #expect(validator.isAtCharacterBoundary && !validator.hasFailed)
    }

    @Test("an empty feed changes nothing")
    func emptyFeed() {
        var validator = UTF8Validator()
        #expect([UInt8(0xE2)].withUnsafeBytes { validator.feed($0) })
        #expect([UInt8]().withUnsafeBytes { validator.feed($0) })
        #expect(!validator.isAtCharacterBoundary)
        #expect([UInt8(0x82), 0xAC].withUnsafeBytes { validator.feed($0) })
        #expect(validator.isAtCharacterBoundary)
    }
}
