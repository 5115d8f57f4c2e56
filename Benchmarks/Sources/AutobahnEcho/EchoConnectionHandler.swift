import NIOCore
import WebSocketProtocol

/// One upgraded connection: client frames are parsed by the daemon's `WebSocketFrameReader` and every
/// text or binary message is sent back unchanged with `WebSocketFrameWriter`.
///
/// Protocol behaviour mirrors the daemon's `WebSocketConnectionHandler`, so the suite judges the same
/// rules: pings get a pong with the same payload, a client's close is echoed with its code (an empty
/// close with an empty one) and the TCP connection closed, and a violation gets a close frame with the
/// reader's code (1002, 1007, 1009) and reason, then the connection is closed. Differences: messages are
/// echoed instead of published; `validatesTextUTF8: true` (the daemon's JSON validator checks a
/// single-frame text message's UTF-8 in its own pass, the echo server has no such pass, so the reader
/// does it); and the size limits, which section 9 needs far above the daemon's defaults.
final class EchoConnectionHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private var reader: WebSocketFrameReader
    /// Bytes read but not yet parsed (an incomplete frame).
    private var input: ByteBuffer?
    /// Frames to send, gathered during one read burst and written with one flush.
    private var output: ByteBuffer?
    private var isOpen = true

    init(limits: EchoLimits) {
        self.reader = WebSocketFrameReader(
            maxMessageBytes: limits.maxMessageBytes,
            maxFragments: limits.maxFragments,
            validatesTextUTF8: true
        )
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard self.isOpen else { return }
        var bytes = self.unwrapInboundIn(data)
        if var pending = self.input.take() {
            pending.writeBuffer(&bytes)
            bytes = pending
        }
        let outcome = self.reader.read(&bytes) { event in self.handle(event) }
        switch outcome {
        case .needMoreBytes:
            if bytes.readableBytes > 0 {
                if bytes.readerIndex >= 64 * 1024 { bytes.discardReadBytes() }
                self.input = bytes
            }
        case .paused:
            // `handle` always consumes, so the reader never pauses.
            preconditionFailure("the echo handler never asks the reader to retry")
        case .closed:
            // The close reply was queued by `handle`.
            self.finish(context: context)
        case .violation(let code, let reason):
            self.append { WebSocketFrameWriter.writeClose(code: code, reason: reason, into: &$0) }
            self.finish(context: context)
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        self.flush(context: context)
        context.fireChannelReadComplete()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        self.isOpen = false
        context.close(promise: nil)
    }

    private func handle(_ event: WebSocketEvent) -> WebSocketEventDisposition {
        switch event {
        case .text(let payload):
            self.append {
                WebSocketFrameWriter.writeFrame(
                    opcode: .text,
                    payload: payload.bytes,
                    maskKey: payload.maskKey,
                    into: &$0
                )
            }
        case .binary(let payload):
            self.append {
                WebSocketFrameWriter.writeFrame(
                    opcode: .binary,
                    payload: payload.bytes,
                    maskKey: payload.maskKey,
                    into: &$0
                )
            }
        case .ping(let payload):
            self.append {
                WebSocketFrameWriter.writeFrame(
                    opcode: .pong,
                    payload: payload.bytes,
                    maskKey: payload.maskKey,
                    into: &$0
                )
            }
        case .pong:
            break
        case .close(let code, _):
            // Echo the client's code (RFC 6455 §5.5.1); an empty close answers an empty one.
            self.append { output in
                if let code {
                    WebSocketFrameWriter.writeClose(code: code, reason: "", into: &output)
                } else {
                    WebSocketFrameWriter.writeEmptyClose(into: &output)
                }
            }
        }
        return .consumed
    }

    private func append(_ body: (inout ByteBuffer) -> Void) {
        if self.output == nil { self.output = ByteBuffer() }
        body(&self.output!)
    }

    private func flush(context: ChannelHandlerContext) {
        guard let output = self.output.take(), output.readableBytes > 0 else { return }
        context.writeAndFlush(self.wrapOutboundOut(output), promise: nil)
    }

    /// Sends what is queued (ending with our close frame), then closes the TCP connection: the server
    /// closes first, as RFC 6455 §7.1.1 asks.
    private func finish(context: ChannelHandlerContext) {
        self.isOpen = false
        self.input = nil
        let output = self.output.take() ?? context.channel.allocator.buffer(capacity: 0)
        context.writeAndFlush(self.wrapOutboundOut(output)).assumeIsolated().whenComplete { _ in
            context.close(promise: nil)
        }
    }
}
