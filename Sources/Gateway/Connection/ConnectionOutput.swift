import ChatContract
import Ingest
import NIOCore
import WebSocketProtocol

/// What a connection writes — replies, pongs, pings, close frames — gathered during one read burst or ack
/// batch and written with one flush (by the handler, see `take`). The buffer is allocated when the first
/// frame of a batch is added.
struct ConnectionOutput {
    private var allocator: ByteBufferAllocator
    private var pending: ByteBuffer?
    private var replies = ChatReplyEncoder()

    init(allocator: ByteBufferAllocator = ByteBufferAllocator()) {
        self.allocator = allocator
    }

    /// The ack or nack of a delivery result.
    mutating func reply(to report: DeliveryResult, id: PendingAck.ID) {
        if let error = report.failure {
            self.append {
                $1.nack(id, code: error.name, message: error.message, retriable: error.isRetriable, into: &$0)
            }
        } else {
            self.append { $1.ack(id, partition: report.partition, offset: report.offset, into: &$0) }
        }
    }

    /// The nack of a message refused at shutdown.
    mutating func shutdownNack(id: TokenSpan?, number: UInt64, from payload: WebSocketPayload) {
        self.append { $1.shutdownNack(id: id, number: number, from: payload, into: &$0) }
    }

    mutating func error(
        code: String,
        reason: String? = nil,
        message: String,
        id: TokenSpan? = nil,
        from payload: WebSocketPayload? = nil
    ) {
        self.append { $1.error(code: code, reason: reason, message: message, id: id, from: payload, into: &$0) }
    }

    /// The pong answering a ping: the same payload, unmasked.
    mutating func pong(_ payload: WebSocketPayload) {
        self.append { output, _ in
            WebSocketFrameWriter.writeFrame(
                opcode: .pong,
                payload: payload.bytes,
                maskKey: payload.maskKey,
                into: &output
            )
        }
    }

    mutating func ping() {
        self.append { output, _ in WebSocketFrameWriter.writeFrameHeader(opcode: .ping, payloadLength: 0, into: &output)
        }
    }

    mutating func close(code: WebSocketCloseCode, reason: String) {
        self.append { output, _ in WebSocketFrameWriter.writeClose(code: code, reason: reason, into: &output) }
    }

    /// Echoes the client's close code, as RFC 6455 §5.5.1 suggests; an empty close answers an empty one.
    mutating func echoClose(code: WebSocketCloseCode?) {
        self.append { output, _ in
            if let code {
                WebSocketFrameWriter.writeClose(code: code, reason: "", into: &output)
            } else {
                WebSocketFrameWriter.writeEmptyClose(into: &output)
            }
        }
    }

    /// What was gathered, handed over for one write; nil when nothing was.
    ///
    /// The caller writes it outside of any access to this value: a write can re-enter the handler at once
    /// (a flush that drains the socket fires `channelWritabilityChanged`), which may gather and flush again.
    mutating func take() -> ByteBuffer? {
        guard let pending = self.pending, pending.readableBytes > 0 else { return nil }
        self.pending = nil
        return pending
    }

    private mutating func append(_ body: (inout ByteBuffer, inout ChatReplyEncoder) -> Void) {
        if self.pending == nil {
            self.pending = self.allocator.buffer(capacity: 256)
        }
        body(&self.pending!, &self.replies)
    }
}
