import Access
import Ingest
import NIOCore
import NIOHTTP1
import NIOWebSocket

/// The WebSocket upgrade for the chat endpoints.
///
/// NIOWebSocket's upgrader does the handshake arithmetic (`Sec-WebSocket-Accept`), but it would install
/// NIOWebSocket's frame decoder, which boxes every frame into `NIOAny` (one allocation per message).
/// This upgrader delegates the response to it and installs our own connection handler instead, which
/// parses frames straight from the socket's `ByteBuffer`s.
final class ChatWebSocketUpgrader: HTTPServerProtocolUpgrader, @unchecked Sendable {
    // @unchecked Sendable: all stored properties are `let`s; `session` is loop-bound (see `HandshakeSession`)
    // and NIO calls an upgrader only on its channel's event loop.
    let supportedProtocol = "websocket"
    let requiredUpgradeHeaders: [String] = []

    private let handshake: NIOWebSocketServerUpgrader
    private let session: HandshakeSession
    private let gateway: GatewayContext

    init(session: HandshakeSession, gateway: GatewayContext) {
        self.session = session
        self.gateway = gateway
        self.handshake = NIOWebSocketServerUpgrader(
            maxFrameSize: 1 << 14,
            automaticErrorHandling: false,
            shouldUpgrade: { [session, gateway] channel, head in
                Self.decide(head, channel: channel, session: session, gateway: gateway)
            },
            upgradePipelineHandler: { channel, _ in channel.eventLoop.makeSucceededVoidFuture() }
        )
    }

    /// A nil result refuses the upgrade; the request then reaches `HTTPRequestHandler`, which answers
    /// with `session.rejection` (or its own classification).
    ///
    /// The checks that need nothing but the request (access, admission, chat policy) run first, so an
    /// unauthenticated client never makes the daemon ask Kafka about a topic; only then may
    /// `topics.require_existing` look the topic up, which can complete later, off the event loop.
    private static func decide(
        _ head: HTTPRequestHead,
        channel: any Channel,
        session: HandshakeSession,
        gateway: GatewayContext
    ) -> EventLoopFuture<HTTPHeaders?> {
        let loop = channel.eventLoop
        session.client = gateway.settings.access.clientAddress(peer: channel.remoteAddress, headers: head.headers)
        var checking: WebSocketTarget
        switch HandshakeClassifier.classify(head) {
        case .failure(let rejection):
            session.rejection = rejection
            return loop.makeSucceededFuture(nil)
        case .success(.health), .success(.ready), .success(.metrics), .success(.docs), .success(.asyncAPI),
            .success(.clientModule),
            .success(.movedPermanently):
            return loop.makeSucceededFuture(nil)
        case .success(.webSocket(let webSocketTarget)):
            checking = webSocketTarget
        }
        if let refusal = gateway.accessRefusal(head, target: &checking, client: session.client)
            ?? gateway.admissionRefusal()
            ?? gateway.chatPolicyRefusal(checking)
        {
            session.rejection = refusal
            return loop.makeSucceededFuture(nil)
        }
        let target = checking
        return gateway.topicExistence(of: target, on: loop).map { existence in
            if let refusal = gateway.limitsRefusal(target, existence: existence, channel: channel, session: session) {
                session.rejection = refusal
                return nil
            }
            do throws(RingRegistryError) {
                let buffer = try gateway.ingest.attach(to: target.topic)
                session.accepted = (target, buffer)
                return HTTPHeaders()
            } catch {
                session.rejection = .ringRefusal(error)
                return nil
            }
        }
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
        guard let accepted = self.session.accepted else {
            return context.eventLoop.makeFailedFuture(NIOWebSocketUpgradeError.unsupportedWebSocketTarget)
        }
        self.session.accepted = nil
        let handler = WebSocketConnectionHandler(
            target: accepted.target,
            buffer: accepted.buffer,
            gateway: self.gateway,
            eventLoop: context.eventLoop
        )
        return context.eventLoop.makeCompletedFuture {
            try context.pipeline.syncOperations.addHandler(handler)
        }
    }
}
