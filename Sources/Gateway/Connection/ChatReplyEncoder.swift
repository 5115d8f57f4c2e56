import ChatContract
import NIOCore
import WebSocketProtocol

/// The JSON replies a connection sends — acks, nacks, errors — each framed as one unmasked text frame and
/// appended to the connection's output. The bytes are part of the API (clients and tests compare them).
///
/// The JSON is built in a scratch buffer reused across replies, then framed in one copy; client tokens
/// (ids) are unmasked straight from the message's payload.
struct ChatReplyEncoder {
    /// Reused to build a JSON reply before framing it.
    private var scratch = ByteBuffer()

    /// `{"ack":ID,"partition":P,"offset":O}`
    mutating func ack(_ id: PendingAck.ID, partition: Int32, offset: Int64, into output: inout ByteBuffer) {
        self.scratch.clear()
        self.scratch.writeStaticString("{\"ack\":")
        self.writeID(id)
        self.scratch.writeStaticString(",\"partition\":")
        JSONText.writeInteger(partition, into: &self.scratch)
        self.scratch.writeStaticString(",\"offset\":")
        JSONText.writeInteger(offset, into: &self.scratch)
        self.scratch.writeStaticString("}")
        self.frame(into: &output)
    }

    /// `{"nack":ID,"error":{"code":CODE,"message":MESSAGE},"retriable":BOOL}` for a failed delivery.
    mutating func nack(
        _ id: PendingAck.ID,
        code: String,
        message: String,
        retriable: Bool,
        into output: inout ByteBuffer
    ) {
        self.scratch.clear()
        self.scratch.writeStaticString("{\"nack\":")
        self.writeID(id)
        self.scratch.writeStaticString(",\"error\":{\"code\":")
        JSONText.writeString(code, into: &self.scratch)
        self.scratch.writeStaticString(",\"message\":")
        JSONText.writeString(message, into: &self.scratch)
        self.scratch.writeStaticString("},\"retriable\":")
        self.scratch.writeStaticString(retriable ? "true}" : "false}")
        self.frame(into: &output)
    }

    /// The nack of a message refused at shutdown: its `id` token from `payload`, else its `number`.
    mutating func shutdownNack(
        id: TokenSpan?,
        number: UInt64,
        from payload: WebSocketPayload,
        into output: inout ByteBuffer
    ) {
        self.scratch.clear()
        self.scratch.writeStaticString("{\"nack\":")
        if let id {
            Self.writeToken(id, from: payload, into: &self.scratch)
        } else {
            JSONText.writeInteger(number, into: &self.scratch)
        }
        self.scratch.writeStaticString(
            ",\"error\":{\"code\":\"shutting_down\",\"message\":\"the server shut down before this message could be queued\"},\"retriable\":true}"
        )
        self.frame(into: &output)
    }

    /// `{"error":{"code":CODE[,"reason":REASON],"message":MESSAGE}[,"id":ID]}`; the id only with its payload.
    mutating func error(
        code: String,
        reason: String?,
        message: String,
        id: TokenSpan?,
        from payload: WebSocketPayload?,
        into output: inout ByteBuffer
    ) {
        self.scratch.clear()
        self.scratch.writeStaticString("{\"error\":{\"code\":")
        JSONText.writeString(code, into: &self.scratch)
        if let reason {
            self.scratch.writeStaticString(",\"reason\":")
            JSONText.writeString(reason, into: &self.scratch)
        }
        self.scratch.writeStaticString(",\"message\":")
        JSONText.writeString(message, into: &self.scratch)
        self.scratch.writeStaticString("}")
        if let id, let payload {
            self.scratch.writeStaticString(",\"id\":")
            Self.writeToken(id, from: payload, into: &self.scratch)
        }
        self.scratch.writeStaticString("}")
        self.frame(into: &output)
    }

    /// The client's id token, unmasked, kept until its ack is written.
    static func clientID(_ span: TokenSpan, from payload: WebSocketPayload) -> PendingAck.ID {
        .clientID(
            [UInt8](unsafeUninitializedCapacity: span.count) { destination, initialized in
                guard span.count > 0 else { return }
                ChatMessageValidator.copyToken(
                    span,
                    from: payload.bytes,
                    maskKey: payload.maskKey,
                    to: destination.baseAddress!
                )
                initialized = span.count
            }
        )
    }

    private mutating func writeID(_ id: PendingAck.ID) {
        switch id {
        case .clientID(let token):
            self.scratch.writeBytes(token)
        case .number(let number):
            JSONText.writeInteger(number, into: &self.scratch)
        }
    }

    private static func writeToken(_ span: TokenSpan, from payload: WebSocketPayload, into buffer: inout ByteBuffer) {
        buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: span.count) { destination in
            ChatMessageValidator.copyToken(
                span,
                from: payload.bytes,
                maskKey: payload.maskKey,
                to: destination.baseAddress!
            )
            return span.count
        }
    }

    private func frame(into output: inout ByteBuffer) {
        self.scratch.withUnsafeReadableBytes { json in
            WebSocketFrameWriter.writeFrame(opcode: .text, payload: json, maskKey: 0, into: &output)
        }
    }
}
