/// Why `WebSocketFrameReader.read` returned.
public enum WebSocketReadOutcome: Equatable, Sendable {
    /// Everything complete was delivered; what is left in the buffer (maybe nothing) is an incomplete frame.
    case needMoreBytes
    /// The callback answered `retryLater`; call `read` again to get the same message.
    case paused
    /// A close frame was delivered; nothing after it is read.
    case closed
    /// The peer broke RFC 6455: send a close with this code and reason, then close the connection.
    case violation(WebSocketCloseCode, reason: String)
}
