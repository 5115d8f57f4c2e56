import NIOCore

/// What the generator needs to know about one frame from the daemon.
enum ServerFrame {
    /// `{"ack":ID,…}` with a numeric id (the message's 1-based position on the connection).
    case ack(Int)
    /// `{"nack":ID,…}`.
    case nack(Int)
    /// An ack or nack whose id is not a plain number (not one of ours), or an error frame for a message.
    case rejected
    case otherText
    /// A close frame's status code (1005 when it carried none).
    case close(UInt16)
    case ping(ByteBuffer)
    case other
}
