import Access
import ChatContract
import Foundation
import Ingest

/// What a WebSocket handshake asked for: the topic its messages go to and whether it wants acks.
struct WebSocketTarget: Sendable, Equatable {
    var topic: TopicName
    /// `?ack=1` on the URL: one reply per message after its delivery report.
    var wantsAcks: Bool
    /// The credential the connection was opened with, nil when none was required. Set by the access check;
    /// the connection is closed with 1008 when it expires (a JWT's `exp` plus the leeway), and a reload
    /// checks it again (`AccessControl.recheck`).
    var grant: AccessGrant? = nil

    /// The chat name, as the access checks take it (`global` for the global endpoint).
    var chat: Substring { self.topic.value.dropFirst(TopicName.chatPrefix.utf8.count) }
}
