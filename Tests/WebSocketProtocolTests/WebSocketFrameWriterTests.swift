import NIOCore
import TestSupport
import Testing

@testable import WebSocketProtocol

@Suite("WebSocketFrameWriter")
struct WebSocketFrameWriterTests {
    static func pattern(_ count: Int) -> [UInt8] {
        (0..<count).map { UInt8(truncatingIfNeeded: $0 &* 13 &+ 5) }
    }

    @Test("frames of every length form parse back", arguments: [0, 125, 126, 65535, 65536])
    func writeFrameLengthForms(length: Int) throws {
        let payload = Self.pattern(length)
        var buffer = ByteBuffer()
        payload.withUnsafeBytes {
            WebSocketFrameWriter.writeFrame(opcode: .binary, payload: $0, maskKey: 0, into: &buffer)
        }
        let frames = try ServerFrameDecoder.decodeAll(buffer)
        let expectedHeader = length < 126 ? 2 : (length <= 0xFFFF ? 4 : 10)
        #expect(frames == [.init(fin: true, opcode: 0x2, payload: payload, headerLength: expectedHeader)])
    }

    @Test("a masked source is unmasked while copying", arguments: [0, 1, 7, 8, 9, 130])
    func writeFrameUnmasks(length: Int) throws {
        let plain = Self.pattern(length)
        let mask: [UInt8] = [0xDE, 0xAD, 0xBE, 0xEF]
        let masked = plain.enumerated().map { $0.element ^ mask[$0.offset & 3] }
        var buffer = ByteBuffer()
        masked.withUnsafeBytes {
            WebSocketFrameWriter.writeFrame(
                opcode: .text,
                payload: $0,
                maskKey: ClientFrameEncoder.maskKey(mask),
                into: &buffer
            )
        }
        let frames = try ServerFrameDecoder.decodeAll(buffer)
        #expect(frames.map(\.payload) == [plain])
        #expect(frames.map(\.opcode) == [0x1])
    }

    @Test("a received ping is echoed as a pong with the same unmasked payload")
    func pingEchoedAsPong() throws {
        var reader = WebSocketFrameReader(maxMessageBytes: 1024, maxFragments: 4, validatesTextUTF8: true)
        var input = ByteBuffer(bytes: ClientFrameEncoder.ping(Array("heartbeat-123".utf8)))
        var output = ByteBuffer()
        let outcome = reader.read(&input) { event in
            if case .ping(let payload) = event {
                WebSocketFrameWriter.writeFrame(
                    opcode: .pong,
                    payload: payload.bytes,
                    maskKey: payload.maskKey,
                    into: &output
                )
            }
            return .consumed
        }
        #expect(outcome == .needMoreBytes)
        let frames = try ServerFrameDecoder.decodeAll(output)
        #expect(frames == [.init(fin: true, opcode: 0xA, payload: Array("heartbeat-123".utf8), headerLength: 2)])
    }

    @Test("a text header followed by caller-written bytes is one frame", arguments: [0, 5, 126, 65536])
    func textFrameHeader(length: Int) throws {
        let payload = Array(String(repeating: "j", count: length).utf8)
        var buffer = ByteBuffer()
        WebSocketFrameWriter.writeTextFrameHeader(payloadLength: payload.count, into: &buffer)
        buffer.writeBytes(payload)
        let frames = try ServerFrameDecoder.decodeAll(buffer)
        #expect(frames.count == 1)
        #expect(frames.first?.opcode == 0x1)
        #expect(frames.first?.fin == true)
        #expect(frames.first?.payload == payload)
    }

    @Test("several frames append to one buffer in order")
    func framesAppend() throws {
        var buffer = ByteBuffer()
        WebSocketFrameWriter.writeTextFrameHeader(payloadLength: 2, into: &buffer)
        buffer.writeString("ok")
        [UInt8(1), 2].withUnsafeBytes {
            WebSocketFrameWriter.writeFrame(opcode: .ping, payload: $0, maskKey: 0, into: &buffer)
        }
        WebSocketFrameWriter.writeClose(code: .goingAway, reason: "bye", into: &buffer)
        WebSocketFrameWriter.writeEmptyClose(into: &buffer)
        let frames = try ServerFrameDecoder.decodeAll(buffer)
        #expect(frames.map(\.opcode) == [0x1, 0x9, 0x8, 0x8])
        #expect(frames.map(\.payload) == [Array("ok".utf8), [1, 2], [0x03, 0xE9] + Array("bye".utf8), []])
    }

    struct TruncationCase: Sendable, CustomTestStringConvertible {
        var name: String
        var reason: String
        var expectedReasonBytes: Int
        var testDescription: String { name }
    }

    static let truncationCases: [TruncationCase] = [
        .init(name: "short ASCII kept", reason: "policy", expectedReasonBytes: 6),
        .init(name: "123 ASCII bytes kept whole", reason: String(repeating: "a", count: 123), expectedReasonBytes: 123),
        .init(name: "124 ASCII bytes cut to 123", reason: String(repeating: "a", count: 124), expectedReasonBytes: 123),
        .init(
            name: "2-byte characters cut before a split one",
            reason: String(repeating: "é", count: 70),
            expectedReasonBytes: 122
        ),
        .init(
            name: "odd offset makes 2-byte characters fit",
            reason: "a" + String(repeating: "é", count: 70),
            expectedReasonBytes: 123
        ),
        .init(
            name: "4-byte characters cut at a boundary",
            reason: String(repeating: "😀", count: 40),
            expectedReasonBytes: 120
        ),
        .init(
            name: "3-byte characters cut at a boundary",
            reason: "ab" + String(repeating: "€", count: 50),
            expectedReasonBytes: 122
        ),
        .init(name: "empty reason", reason: "", expectedReasonBytes: 0),
    ]

    @Test("close reason is cut at a UTF-8 boundary within 125 bytes", arguments: truncationCases)
    func closeReasonTruncation(_ testCase: TruncationCase) throws {
        var buffer = ByteBuffer()
        WebSocketFrameWriter.writeClose(code: .messageTooBig, reason: testCase.reason, into: &buffer)
        let frames = try ServerFrameDecoder.decodeAll(buffer)
        let frame = try #require(frames.first)
        #expect(frames.count == 1)
        #expect(frame.opcode == 0x8 && frame.fin)
        #expect(frame.payload.count <= 125)
        #expect(Array(frame.payload.prefix(2)) == [0x03, 0xF1])  // 1009
        let reason = Array(frame.payload.dropFirst(2))
        #expect(reason.count == testCase.expectedReasonBytes)
        #expect(String(validating: reason, as: UTF8.self) != nil)
        #expect(Array(testCase.reason.utf8).starts(with: reason))
    }

    @Test("a non-contiguous (bridged-like) substring reason still works")
    func closeReasonFromSubstring() throws {
        let long = String(repeating: "ü", count: 100)
        let reason = String(long.dropFirst(10))
        var buffer = ByteBuffer()
        WebSocketFrameWriter.writeClose(code: .normalClosure, reason: reason, into: &buffer)
        let frame = try #require(try ServerFrameDecoder.decodeAll(buffer).first)
        #expect(frame.payload.count == 2 + 122)
    }
}
