import Monitoring
import NIOCore
import NIOHTTP1

extension GatewayContext {
    /// The chat policy's verdict (`topics.chat_pattern`, `topics.allowed_chats`): 403 `chat_not_allowed`.
    func chatPolicyRefusal(_ target: WebSocketTarget) -> HTTPRejection? {
        self.settings.limits.limits.chats.refusal(for: target.topic).map { .chatNotAllowed($0) }
    }

    /// For `topics.require_existing`: whether the requested chat's topic exists — at once from the cached
    /// topic list, or off the event loop when the list must be fetched. nil when the check is off.
    func topicExistence(of target: WebSocketTarget, on loop: any EventLoop) -> EventLoopFuture<TopicExistence?> {
        guard let topics = self.settings.limits.topics else {
            return loop.makeSucceededFuture(nil)
        }
        return topics.lookUp(target.topic, on: loop).map { $0 }
    }

    /// The limits' verdict on a WebSocket handshake that passed the access and chat-policy checks: the
    /// topic's existence (404, or 503 when Kafka cannot say), then the connection limits (503 in total,
    /// 429 per client). An admitted connection is counted until its channel closes.
    func limitsRefusal(
        _ target: WebSocketTarget,
        existence: TopicExistence?,
        channel: any Channel,
        session: HandshakeSession
    ) -> HTTPRejection? {
        let runtime = self.settings.limits
        switch existence {
        case .missing?: return .unknownChat(target.topic)
        case .unknown?: return .kafkaUnavailable
        case .exists?, nil: break
        }
        // The topic lookup may have outlived the connection (handshake timeout): attach nothing to it.
        guard channel.isActive else {
            return HTTPRejection(
                status: .requestTimeout,
                code: .handshakeTimeout,
                message: "the connection closed before the handshake was decided"
            )
        }
        let limiter = runtime.connections
        let client = clientAddress(channel: channel, session: session)
        switch limiter.admit(client) {
        case .tooManyConnections:
            return .tooManyConnections(limiter.maxConnections)
        case .tooManyFromClient:
            return .tooManyConnectionsPerIP(limiter.maxPerClient)
        case .admitted:
            channel.closeFuture.whenComplete { _ in limiter.release(client) }
            return nil
        }
    }

    /// Puts the handshake timeout first in a new connection's pipeline; the upgrade removes it again.
    func installHandshakeTimeout(on channel: any Channel) throws -> NIOLoopBound<HandshakeTimeoutHandler>? {
        let timeout = self.settings.limits.limits.handshakeTimeout.nanoseconds
        guard timeout > 0 else { return nil }
        let handler = HandshakeTimeoutHandler(timeout: .nanoseconds(Int64(timeout)), counters: self.connections)
        try channel.pipeline.syncOperations.addHandler(handler, position: .first)
        return NIOLoopBound(handler, eventLoop: channel.eventLoop)
    }
}
