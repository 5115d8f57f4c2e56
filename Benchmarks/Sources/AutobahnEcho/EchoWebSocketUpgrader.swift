import NIOCore
import NIOHTTP1
import NIOWebSocket

/// Accepts a WebSocket handshake on any path and installs `EchoConnectionHandler`.
///
/// Same arrangement as the daemon's `ChatWebSocketUpgrader`: NIOWebSocket's upgrader checks the request
/// and computes `Sec-WebSocket-Accept`, but its own `upgrade` (which would add NIOWebSocket's frame
/// decoder and encoder) is never called.
final class EchoWebSocketUpgrader: HTTPServerProtocolUpgrader, Sendable {
    let supportedProtocol = "websocket"
    let requiredUpgradeHeaders: [String] = []

    private let handshake: NIOWebSocketServerUpgrader
    private let limits: EchoLimits

    init(limits: EchoLimits) {
        self.limits = limits
        self.handshake = NIOWebSocketServerUpgrader(
            automaticErrorHandling: false,
            // The suite names its report files after the `Server` header.
            shouldUpgrade: { channel, _ in
                channel.eventLoop.makeSucceededFuture(HTTPHeaders([("Server", "autobahn-echo")]))
            },
            upgradePipelineHandler: { channel, _ in channel.eventLoop.makeSucceededVoidFuture() }
        )
    }

    func buildUpgradeResponse(
        channel: any Channel,
        upgradeRequest: HTTPRequestHead,
        initialResponseHeaders: HTTPHeaders
    ) -> EventLoopFuture<HTTPHeaders> {
        self.handshake.buildUpgradeResponse(
            channel: channel,
            upgradeRequest: upgradeRequest,
            initialResponseHeaders: initialResponseHeaders
        )
    }

    func upgrade(context: ChannelHandlerContext, upgradeRequest: HTTPRequestHead) -> EventLoopFuture<Void> {
        let limits = self.limits
        return context.eventLoop.makeCompletedFuture {
            try context.pipeline.syncOperations.addHandler(EchoConnectionHandler(limits: limits))
        }
    }
}
