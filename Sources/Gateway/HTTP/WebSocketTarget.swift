import ChatContract
import Ingest

/// What a WebSocket handshake asked for: the topic its messages go to and whether it wants acks.
struct WebSocketTarget: Sendable, Equatable {
    var topic: TopicName
    /// `?ack=1` on the URL: one reply per message after its delivery report.
    var wantsAcks: Bool
}
