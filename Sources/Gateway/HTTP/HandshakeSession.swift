import Access
import Ingest
import NIOCore

/// Per-channel memory of what the upgrader decided, shared with the plain HTTP handler.
///
/// The ring is attached in `shouldUpgrade`, before the 101 is sent, so that a full buffer budget can still
/// be answered with a 503; the connection handler then takes it over. Loop-bound: only touched on the
/// channel's event loop.
final class HandshakeSession: @unchecked Sendable {
    // @unchecked Sendable: loop-bound. Only the channel's own handlers and closures scheduled on its event
    // loop touch it (the upgrader, the HTTP handler, the close-future callback that hops onto the loop).
    /// Set when the upgrader refused: the HTTP handler answers with it.
    var rejection: HTTPRejection?
    /// Set when the upgrade will go ahead: the target and its attached ring.
    var accepted: (target: WebSocketTarget, buffer: TopicBuffer)?
    /// Who sent the upgrade request: the TCP peer, or behind a trusted proxy the `X-Forwarded-For`
    /// client. Set first thing in `shouldUpgrade`, for logs and per-IP limits.
    var client: ClientAddress?
}
