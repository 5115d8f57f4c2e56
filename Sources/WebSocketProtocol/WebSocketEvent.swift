/// What the reader found in the input, delivered to the caller's callback in wire order.
///
/// Carries borrowed payloads rather than owned buffers so that delivering a message costs no allocation.
public enum WebSocketEvent {
    /// One complete text message. Single frame: points into the input, still masked.
    /// Fragmented: the reassembled, unmasked bytes (`maskKey` 0).
    case text(WebSocketPayload)
    /// One complete binary message, shaped like `text`.
    case binary(WebSocketPayload)
    /// The caller must answer with a pong carrying the same (unmasked) payload.
    case ping(WebSocketPayload)
    case pong
    /// The peer's close frame, already validated: `code` is nil for an empty payload, otherwise valid on the
    /// wire, and `reason` is valid UTF-8 (possibly masked).
    case close(code: WebSocketCloseCode?, reason: WebSocketPayload)
}
