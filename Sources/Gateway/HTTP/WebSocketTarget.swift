import ChatContract
import Foundation
import Ingest

/// What a WebSocket handshake asked for: the topic its messages go to and whether it wants acks.
struct WebSocketTarget: Sendable, Equatable {
    var topic: TopicName
    /// `?ack=1` on the URL: one reply per message after its delivery report.
    var wantsAcks: Bool
    /// When the credential the connection was opened with expires (a JWT's `exp` plus the leeway): the
    /// connection is closed with 1008 then. Set by the access check.
    var credentialExpiresAt: Date? = nil
}
