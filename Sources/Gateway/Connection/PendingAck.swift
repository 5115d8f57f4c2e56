import NIOCore

/// The id an acknowledgement will carry: the client's own `id` token, or the message's number on the
/// connection (1-based) when the client sent none.
enum PendingAck {
    case clientID(ByteBuffer)
    case number(UInt64)
}
