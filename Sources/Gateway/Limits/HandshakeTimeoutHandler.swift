import Monitoring
import NIOCore

/// Closes TCP connections that do not get a request answered in time (slowloris: headers trickled in
/// one byte at a time, or a connection opened and left silent), so they cannot hold a descriptor and
/// pipeline memory for free.
///
/// It sits first in the pipeline, on raw bytes, and knows nothing of HTTP: the deadline runs from the
/// accept, or from the last response on a keep-alive connection, until the server writes its next
/// response (the 101 of an upgrade included). When it passes, the client gets a raw
/// `408 Request Timeout` with a JSON reason — safe to write because nothing else was written since the
/// previous response — and the connection is closed. The upgrade removes the handler, so a WebSocket never
/// pays for it.
final class HandshakeTimeoutHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundIn = IOData
    typealias OutboundOut = IOData

    private let timeout: TimeAmount
    private let counters: ConnectionCounters
    private var timer: Scheduled<Void>?
    /// A response went out since the timer was armed: the next expiry re-arms instead of closing.
    private var answered = false

    init(timeout: TimeAmount, counters: ConnectionCounters) {
        self.timeout = timeout
        self.counters = counters
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.arm(context: context)
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.timer?.cancel()
        self.timer = nil
    }

    func channelInactive(context: ChannelHandlerContext) {
        self.timer?.cancel()
        self.timer = nil
        context.fireChannelInactive()
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        self.answered = true
        context.write(data, promise: promise)
    }

    private func arm(context: ChannelHandlerContext) {
        self.answered = false
        self.timer = context.eventLoop.assumeIsolated().scheduleTask(in: self.timeout) {
            self.expired(context: context)
        }
    }

    private func expired(context: ChannelHandlerContext) {
        self.timer = nil
        guard context.channel.isActive else { return }
        if self.answered {
            self.arm(context: context)
            return
        }
        self.counters.rejected(.handshakeTimeout)
        var body = ByteBuffer()
        body.writeStaticString(#"{"error":{"code":"handshake_timeout","message":"#)
        JSONText.writeString("no complete HTTP request within \(self.timeout.nanoseconds / 1_000_000) ms", into: &body)
        body.writeStaticString("}}")
        var response = context.channel.allocator.buffer(capacity: 160 + body.readableBytes)
        response.writeStaticString(
            "HTTP/1.1 408 Request Timeout\r\nContent-Type: application/json\r\nCache-Control: no-store\r\nConnection: close\r\nContent-Length: "
        )
        response.writeString(String(body.readableBytes))
        response.writeStaticString("\r\n\r\n")
        response.writeBuffer(&body)
        // The flush writes to the socket at once; a client that does not even read that is not waited for.
        context.writeAndFlush(self.wrapOutboundOut(.byteBuffer(response)), promise: nil)
        context.close(promise: nil)
    }
}
