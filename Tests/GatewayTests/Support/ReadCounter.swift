import NIOCore

/// Sits between the channel and the connection handler and counts the `read()`s the handler passes on.
final class ReadCounter: ChannelOutboundHandler {
    typealias OutboundIn = NIOAny
    private(set) var reads = 0

    func read(context: ChannelHandlerContext) {
        self.reads += 1
        context.read()
    }
}
