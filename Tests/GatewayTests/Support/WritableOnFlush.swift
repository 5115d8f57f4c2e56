import NIOCore
import NIOEmbedded

/// When armed, makes the channel writable while a flush passes and says so at once, as a socket channel
/// does when a flush drains its pending writes: the connection handler is re-entered from inside its own
/// write.
final class WritableOnFlush: ChannelOutboundHandler {
    typealias OutboundIn = NIOAny
    var armed = false

    func flush(context: ChannelHandlerContext) {
        context.flush()
        guard self.armed, let channel = context.channel as? EmbeddedChannel else { return }
        self.armed = false
        channel.isWritable = true
        context.fireChannelWritabilityChanged()
    }
}
