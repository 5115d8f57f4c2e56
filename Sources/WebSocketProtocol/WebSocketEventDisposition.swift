/// The caller's answer to a delivered event.
///
/// Lets the caller apply backpressure (e.g. a full Kafka ring) without copying the message out:
/// the reader keeps it where it is and delivers it again later.
public enum WebSocketEventDisposition: Sendable {
    /// The message was taken; the reader may drop it.
    case consumed
    /// Keep this message (its input bytes or its reassembled data) and stop reading; the same message is
    /// delivered again on the next `read` call. Ignored for control frames, which are always consumed.
    case retryLater
}
