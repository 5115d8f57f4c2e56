import ChatContract
import NIOCore
import TestSupport
import Testing
import WebSocketProtocol

@testable import Gateway

/// The replies' exact bytes: clients parse them, the daemon tests compare them.
@Suite("Chat reply encoder")
struct ChatReplyEncoderTests {
    /// The JSON of the single unmasked text frame in `output` (checks the header on the way).
    static func json(_ output: ByteBuffer, sourceLocation: SourceLocation = #_sourceLocation) -> String? {
        let bytes = Array(output.readableBytesView)
        guard bytes.count >= 2, bytes[0] == 0x81, bytes[1] & 0x80 == 0 else {
            Issue.record("not an unmasked final text frame: \(bytes.prefix(4))", sourceLocation: sourceLocation)
            return nil
        }
        var length = Int(bytes[1])
        var start = 2
        if length == 126 {
            length = Int(bytes[2]) << 8 | Int(bytes[3])
            start = 4
        }
        #expect(bytes.count == start + length, "frame length", sourceLocation: sourceLocation)
        return String(decoding: bytes[start...], as: UTF8.self)
    }

    /// `text` masked with `mask`, as it sits in a client's frame, and the payload view of it.
    static func withPayload<R>(
        _ text: String,
        mask: [UInt8] = ClientFrameEncoder.defaultMask,
        _ body: (WebSocketPayload) -> R
    ) -> R {
        let masked = Array(text.utf8).enumerated().map { $0.element ^ mask[$0.offset & 3] }
        return masked.withUnsafeBytes { body(WebSocketPayload(bytes: $0, maskKey: ClientFrameEncoder.maskKey(mask))) }
    }

    @Test func ackWithTheMessageNumber() {
        var encoder = ChatReplyEncoder()
        var output = ByteBuffer()
        encoder.ack(.number(7), partition: 2, offset: 123_456_789_012, into: &output)
        #expect(Self.json(output) == #"{"ack":7,"partition":2,"offset":123456789012}"#)
    }

    @Test func ackWithTheClientsIDToken() {
        var encoder = ChatReplyEncoder()
        var output = ByteBuffer()
        encoder.ack(.clientID(Array(#""m-1\"x""#.utf8)), partition: 0, offset: 0, into: &output)
        #expect(Self.json(output) == #"{"ack":"m-1\"x","partition":0,"offset":0}"#)
    }

    @Test func repliesAppendToTheOutput() {
        var encoder = ChatReplyEncoder()
        var output = ByteBuffer()
        encoder.ack(.number(1), partition: 0, offset: 5, into: &output)
        let first = output.readableBytes
        encoder.ack(.number(2), partition: 0, offset: 6, into: &output)
        #expect(output.readableBytes == 2 * first)
        output.moveReaderIndex(forwardBy: first)
        #expect(Self.json(output) == #"{"ack":2,"partition":0,"offset":6}"#)
    }

    @Test func nackOfAFailedDelivery() {
        var encoder = ChatReplyEncoder()
        var output = ByteBuffer()
        encoder.nack(
            .number(3),
            code: "MSG_TIMED_OUT",
            message: "Local: \"timed\" out\n",
            retriable: true,
            into: &output
        )
        #expect(
            Self.json(output)
                == #"{"nack":3,"error":{"code":"MSG_TIMED_OUT","message":"Local: \"timed\" out\n"},"retriable":true}"#
        )
        var other = ByteBuffer()
        encoder.nack(
            .clientID(Array("42".utf8)),
            code: "TOPIC_AUTHORIZATION_FAILED",
            message: "denied",
            retriable: false,
            into: &other
        )
        #expect(
            Self.json(other)
                == #"{"nack":42,"error":{"code":"TOPIC_AUTHORIZATION_FAILED","message":"denied"},"retriable":false}"#
        )
    }

    @Test func shutdownNackWithAndWithoutID() {
        var encoder = ChatReplyEncoder()
        let text = #"{"sender":"a","text":"b","tag":"c","id":"x1"}"#
        let idStart = text.utf8.count - 5
        var output = ByteBuffer()
        Self.withPayload(text) { payload in
            encoder.shutdownNack(id: TokenSpan(start: idStart, count: 4), number: 9, from: payload, into: &output)
        }
        #expect(
            Self.json(output)
                == #"{"nack":"x1","error":{"code":"shutting_down","message":"the server shut down before this message could be queued"},"retriable":true}"#
        )
        var numbered = ByteBuffer()
        Self.withPayload(text) { payload in
            encoder.shutdownNack(id: nil, number: 9, from: payload, into: &numbered)
        }
        #expect(
            Self.json(numbered)
                == #"{"nack":9,"error":{"code":"shutting_down","message":"the server shut down before this message could be queued"},"retriable":true}"#
        )
    }

    @Test func errorWithReasonAndID() {
        var encoder = ChatReplyEncoder()
        let text = #"{"id":17,"sender":5}"#
        var output = ByteBuffer()
        Self.withPayload(text) { payload in
            encoder.error(
                code: "invalid_message",
                reason: "wrong_type",
                message: "\"sender\" must be a string",
                id: TokenSpan(start: 6, count: 2),
                from: payload,
                into: &output
            )
        }
        #expect(
            Self.json(output)
                == #"{"error":{"code":"invalid_message","reason":"wrong_type","message":"\"sender\" must be a string"},"id":17}"#
        )
    }

    @Test func errorWithoutReasonOrID() {
        var encoder = ChatReplyEncoder()
        var output = ByteBuffer()
        encoder.error(
            code: "unsupported_frame",
            reason: nil,
            message: "binary frames are not accepted; send each message as a JSON text frame",
            id: nil,
            from: nil,
            into: &output
        )
        #expect(
            Self.json(output)
                == #"{"error":{"code":"unsupported_frame","message":"binary frames are not accepted; send each message as a JSON text frame"}}"#
        )
    }

    @Test func anIDWithoutItsPayloadIsLeftOut() {
        var encoder = ChatReplyEncoder()
        var output = ByteBuffer()
        encoder.error(code: "c", reason: nil, message: "m", id: TokenSpan(start: 0, count: 1), from: nil, into: &output)
        #expect(Self.json(output) == #"{"error":{"code":"c","message":"m"}}"#)
    }

    @Test func clientIDsAreUnmaskedCopies() {
        let text = #"{"id":"abc\u0041","sender":"s"}"#
        let id = Self.withPayload(text) { ChatReplyEncoder.clientID(TokenSpan(start: 6, count: 11), from: $0) }
        #expect(id == .clientID(Array(#""abc\u0041""#.utf8)))
    }

    @Test func longRepliesGetAnExtendedLength() {
        var encoder = ChatReplyEncoder()
        var output = ByteBuffer()
        let message = String(repeating: "x", count: 300)
        encoder.error(code: "c", reason: nil, message: message, id: nil, from: nil, into: &output)
        #expect(Self.json(output) == #"{"error":{"code":"c","message":""# + message + #""}}"#)
    }
}
