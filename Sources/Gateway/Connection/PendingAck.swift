/// An ack-mode message awaiting its delivery report: the id its ack will carry, and when it was
/// accepted (for `kcp_ack_latency_seconds`).
struct PendingAck: Equatable {
    /// The client's own `id` token, or the message's number on the connection (1-based) when it sent none.
    enum ID: Equatable {
        /// The raw JSON token (a string with its quotes, or a number), unmasked; written back as it is.
        case clientID([UInt8])
        case number(UInt64)
    }

    var id: ID
    /// `MonotonicClock` nanoseconds.
    var acceptedAt: UInt64
}
