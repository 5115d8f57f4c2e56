import TestSupport
import Testing

@testable import WebSocketProtocol

@Suite("WebSocketMask")
struct WebSocketMaskTests {
    static func naiveUnmask(_ bytes: [UInt8], key: UInt32, offset: Int) -> [UInt8] {
        bytes.enumerated().map { $0.element ^ UInt8(truncatingIfNeeded: key >> (((offset + $0.offset) & 3) * 8)) }
    }

    @Test("the key convention: wire-order bytes loaded little-endian")
    func keyConvention() {
        let key = ClientFrameEncoder.maskKey([0x11, 0x22, 0x33, 0x44])
        #expect(key == 0x4433_2211)
        #expect(
            (0..<8).map { WebSocketMask.byte(of: key, at: $0) } == [0x11, 0x22, 0x33, 0x44, 0x11, 0x22, 0x33, 0x44]
        )
        let rotated = WebSocketMask.rotated(key, byOffset: 2)
        #expect((0..<4).map { WebSocketMask.byte(of: rotated, at: $0) } == [0x33, 0x44, 0x11, 0x22])
        #expect(WebSocketMask.rotated(key, byOffset: 4) == key)
    }

    @Test("copyUnmasking matches a byte-by-byte reference, also in place")
    func copyMatchesReference() {
        var rng = SeededGenerator(seed: 7)
        for length in 0..<70 {
            for offset in 0..<4 {
                let source = (0..<length).map { _ in UInt8.random(in: 0...255, using: &rng) }
                let key = offset == 3 ? 0 : UInt32.random(in: 0...UInt32.max, using: &rng)
                let expected = Self.naiveUnmask(source, key: key, offset: offset)
                var destination = [UInt8](repeating: 0xAA, count: length + 3)
                source.withUnsafeBytes { src in
                    destination.withUnsafeMutableBytes {
                        WebSocketMask.copyUnmasking(src, maskKey: key, maskOffset: offset, into: $0)
                    }
                }
                #expect(Array(destination.prefix(length)) == expected)
                #expect(destination.suffix(3).allSatisfy { $0 == 0xAA })

                var inPlace = source
                inPlace.withUnsafeMutableBytes {
                    WebSocketMask.copyUnmasking(UnsafeRawBufferPointer($0), maskKey: key, maskOffset: offset, into: $0)
                }
                #expect(inPlace == expected)
            }
        }
    }
}
